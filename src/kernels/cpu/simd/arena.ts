// Scratch memory for one convolution call (im2col columns, Winograd's transformed inputs,
// filters and products): handed out from one buffer by bumping an offset, and taken back
// all at once when the next call starts. Allocating fresh arrays per call (up to ~100 MB
// for a 224² VGG layer) left the garbage collector hundreds of MB behind; the arena keeps
// the largest call's scratch resident instead, and reuses it.
export class Arena {
  private buf: ArrayBuffer | SharedArrayBuffer;
  private off = 0;
  /** Floats the current call has asked for in all (the next reset grows the buffer to it). */
  private used = 0;

  /** shared: a SharedArrayBuffer, for scratch that other threads read (the main thread's). */
  constructor(private readonly shared: boolean) {
    this.buf = this.make(0);
  }

  private make(floats: number): ArrayBuffer | SharedArrayBuffer {
    return this.shared ? new SharedArrayBuffer(4 * floats) : new ArrayBuffer(4 * floats);
  }

  /** Frees everything handed out (its arrays must no longer be used) and grows to the last call's need. */
  reset(): void {
    if (this.used * 4 > this.buf.byteLength) this.buf = this.make(this.used);
    this.off = 0;
    this.used = 0;
  }

  /** n zeros. Past the end of the buffer: a separate array (and the next reset grows the buffer). */
  alloc(n: number): Float32Array {
    this.used += n;
    if (4 * (this.off + n) > this.buf.byteLength) return new Float32Array(this.make(n));
    const a = new Float32Array(this.buf, 4 * this.off, n);
    a.fill(0);
    this.off += n;
    return a;
  }
}
