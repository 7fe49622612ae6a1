// The WebGPU side of the webgpu backend, run in its worker thread (./worker.ts): the device,
// buffers pooled by size, pipelines compiled once per shader source and cached, and each
// backend call encoded inside validation and out-of-memory error scopes, so that an error
// names the kernel; calls are submitted in batches (up to BATCH, or before a read, write or
// sync). Nothing here blocks: reads resolve a promise (mapAsync); the main
// thread waits for them with Atomics.wait (./index.ts).
import type { GPUBindGroupLayout, GPUBuffer, GPUCommandEncoder, GPUComputePipeline, GPUDevice, GPUError } from './gpu-types.js';
import { PARAM_WORDS, type Shader } from './shaders.js';

/** A device buffer: its GPUBuffer (pooled, maybe larger than needed), its length in elements, whether it holds int32. */
export interface GBuf {
  buf: GPUBuffer;
  n: number;
  index: boolean;
}

/** A binding of elements [off, off + n) of a buffer only (off a multiple of WINDOW_ALIGN): how a buffer larger than one binding is read in parts. */
export interface GWindow {
  g: GBuf;
  off: number;
  n: number;
}

/** Window offsets are multiples of this many elements (256 bytes: WebGPU's largest minStorageBufferOffsetAlignment). */
export const WINDOW_ALIGN = 64;

const STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST
/** Calls encoded into one submission at most (a read, write or sync submits sooner). */
const BATCH = 32;

/** Bytes a pooled buffer of `bytes` gets: powers of two up to 1 MiB, then whole MiB. */
export function bucket(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

export class Gpu {
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly uniforms: GPUBuffer[] = [];
  private uniformNext = 0;
  private encoder: GPUCommandEncoder | null = null;
  private kernel = '';
  /** The calls encoded since the last submission. */
  private readonly batch: string[] = [];
  /** Error scopes not yet popped: a read waits for them. */
  private readonly pending = new Set<Promise<void>>();
  /** The first error not yet reported to the main thread. */
  error: string | null = null;
  compiles = 0;
  pooledBytes = 0;
  reused = 0;

  /** The largest storage binding in bytes: the device's, or less where TL_WEBGPU_MAX_BINDING or setMaxBinding asks (tests of the splitting). */
  maxBinding: number;
  /** Bytes of the GPU buffers made and not destroyed (live and pooled). */
  allocatedBytes = 0;

  constructor(readonly device: GPUDevice, private readonly onError: (message: string) => void, maxBinding?: number) {
    this.maxBinding = Math.min(device.limits.maxStorageBufferBindingSize ?? 1 << 27, maxBinding ?? Infinity);
  }

  /** Binds at most `bytes` from the next call on (null: the device's limit): tests compare split and whole runs in one process. */
  setMaxBinding(bytes: number | null): void {
    this.maxBinding = Math.min(this.device.limits.maxStorageBufferBindingSize ?? 1 << 27, bytes ?? Infinity);
  }

  /** The largest binding in elements, a multiple of WINDOW_ALIGN. */
  get maxBindingElements(): number {
    return Math.floor(this.maxBinding / 4 / WINDOW_ALIGN) * WINDOW_ALIGN;
  }

  // ---- Buffers --------------------------------------------------------------------------------

  alloc(n: number, index: boolean): GBuf {
    const size = bucket(4 * n);
    const free = this.pool.get(size);
    const reused = free?.pop();
    if (reused) {
      this.pooledBytes -= size;
      this.reused++;
      this.enc().clearBuffer(reused);
      return { buf: reused, n, index };
    }
    this.allocatedBytes += size;
    return { buf: this.device.createBuffer({ size, usage: STORAGE }), n, index };
  }

  release(b: GBuf): void {
    const size = b.buf.size;
    let free = this.pool.get(size);
    if (!free) this.pool.set(size, (free = []));
    free.push(b.buf);
    this.pooledBytes += size;
  }

  /** Gives back pooled memory (a new allocation failed). */
  trim(): void {
    for (const free of this.pool.values()) for (const b of free) b.destroy();
    this.allocatedBytes -= this.pooledBytes;
    this.pool.clear();
    this.pooledBytes = 0;
  }

  write(b: GBuf, offset: number, values: ArrayBufferView & { byteLength: number }): void {
    this.flush();
    this.device.queue.writeBuffer(b.buf, 4 * offset, values.buffer, values.byteOffset, values.byteLength);
  }

  /** n 32-bit words from `offset`, once the GPU has written them. */
  async read(b: GBuf, offset: number, n: number): Promise<ArrayBuffer> {
    const bytes = 4 * n;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: 0x01 | 0x08 }); // MAP_READ | COPY_DST
    if (bytes > 0) this.enc().copyBufferToBuffer(b.buf, 4 * offset, staging, 0, bytes);
    this.flush();
    await this.settled();
    await staging.mapAsync(1); // GPUMapMode.READ
    const out = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Waits for the error scopes popped so far. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  // ---- Calls and dispatches -------------------------------------------------------------------

  /** Starts a backend call named `kernel`: its dispatches go into one submission, in one error scope. */
  begin(kernel: string): void {
    this.kernel = kernel;
    this.batch.push(kernel);
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
  }

  /** Ends the call: submits it and pops its scopes (their errors name the kernel). */
  end(): void {
    const kernel = this.kernel;
    const report = (e: GPUError | null): void => {
      if (e) this.onError(`backend webgpu: kernel '${kernel}': ${e.message.split('\n').slice(0, 6).join(' ')}`);
    };
    for (let k = 0; k < 2; k++) {
      const p: Promise<void> = this.device.popErrorScope().then(report).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
    if (this.batch.length >= BATCH) this.flush();
  }

  private enc(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  /**
   * Submits the calls encoded so far (at most BATCH calls go into one submission). Errors
   * found when the commands are finished or submitted name every kernel of the batch.
   */
  flush(): void {
    const kernels = this.batch.splice(0);
    this.uniformNext = 0;
    if (!this.encoder) return;
    const enc = this.encoder;
    this.encoder = null;
    this.device.pushErrorScope('validation');
    this.device.queue.submit([enc.finish()]);
    const names = [...new Set(kernels)].join(', ');
    const p: Promise<void> = this.device.popErrorScope().then((e) => {
      if (e) this.onError(`backend webgpu: kernel${kernels.length > 1 ? 's' : ''} '${names}': ${e.message.split('\n').slice(0, 6).join(' ')}`);
    }).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  copy(src: GBuf, srcOffset: number, dst: GBuf, dstOffset: number, n: number): void {
    if (n > 0) this.enc().copyBufferToBuffer(src.buf, 4 * srcOffset, dst.buf, 4 * dstOffset, 4 * n);
  }

  private pipelineOf(s: Shader): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let p = this.pipelines.get(s.code);
    if (p) return p;
    const d = this.device;
    const layout = d.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: 4, buffer: { type: 'uniform' } }, // GPUShaderStage.COMPUTE
        ...s.bindings.map(([, access], k) => ({ binding: k + 1, visibility: 4, buffer: { type: access === 'read' ? 'read-only-storage' as const : 'storage' as const } })),
      ],
    });
    const pipeline = d.createComputePipeline({ layout: d.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module: d.createShaderModule({ code: s.code, label: s.name }), entryPoint: 'main' } });
    this.compiles++;
    p = { pipeline, layout };
    this.pipelines.set(s.code, p);
    return p;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  private uniform(params: readonly number[], spec: Shader['params']): GPUBuffer {
    const words = new ArrayBuffer(4 * PARAM_WORDS);
    const u32 = new Uint32Array(words), i32 = new Int32Array(words), f32 = new Float32Array(words);
    if (params.length !== spec.length) throw new Error(`backend webgpu: shader parameters: ${params.length} given, ${spec.length} expected`);
    params.forEach((v, k) => {
      const kind = spec[k]![1];
      if (kind === 'f') f32[k] = v;
      else if (kind === 'i') i32[k] = v;
      else {
        if (!(v >= 0 && v <= 0xffffffff)) throw new Error(`backend webgpu: parameter ${spec[k]![0]} = ${v} is not a u32`);
        u32[k] = v;
      }
    });
    let u = this.uniforms[this.uniformNext];
    if (!u) this.uniforms.push((u = this.device.createBuffer({ size: 4 * PARAM_WORDS, usage: UNIFORM })));
    this.uniformNext++;
    // Written on the queue before this call's submission and after the previous call's, which used it last.
    this.device.queue.writeBuffer(u, 0, words);
    return u;
  }

  /**
   * One dispatch of `s` over `buffers` (its storage bindings, in order: whole buffers, or
   * windows of them) with `params` (for elementwise shaders: n first). A writable binding that
   * aliases another binding's buffer gets a temporary copy of the read one (WebGPU forbids
   * the aliasing). A pointwise shader over buffers larger than one binding (maxBinding) runs
   * in windows of them; any other shader given such a buffer is an error naming the kernel.
   * `groups`: workgroups to launch (x, y); default: one invocation per element of params[0].
   */
  dispatch(s: Shader, buffers: (GBuf | GWindow)[], params: number[], groups?: [number, number]): void {
    const whole = buffers.map((b) => ('g' in b ? b : { g: b, off: 0, n: b.n }));
    const span = this.maxBindingElements;
    if (whole.some((w) => w.n > span)) {
      if (!s.pointwise || whole.some((w) => w.off !== 0)) {
        const k = whole.findIndex((w) => w.n > span);
        throw new Error(`binding '${s.bindings[k]![0]}' of shader ${s.name} holds ${whole[k]!.n} values (${4 * whole[k]!.n} bytes), more than one storage binding allows (maxStorageBufferBindingSize ${this.maxBinding} bytes), and this kernel is not split`);
      }
      const n = params[0]!;
      for (let e0 = 0; e0 < n; e0 += span) {
        const m = Math.min(span, n - e0);
        this.dispatchOnce(s, whole.map((w) => ({ g: w.g, off: e0, n: m })), [m, ...params.slice(1)]);
      }
      return;
    }
    this.dispatchOnce(s, whole, params, groups);
  }

  private dispatchOnce(s: Shader, buffers: GWindow[], params: number[], groups?: [number, number]): void {
    const { pipeline, layout } = this.pipelineOf(s);
    const temps: GBuf[] = [];
    const bound = buffers.map((b, k) => {
      const aliasWritten = buffers.some((o, j) => j !== k && o.g.buf === b.g.buf && (s.bindings[j]![1] === 'read_write' || s.bindings[k]![1] === 'read_write'));
      if (!aliasWritten || s.bindings[k]![1] === 'read_write') return b;
      const t = this.alloc(b.n, b.g.index);
      this.copy(b.g, b.off, t, 0, b.n);
      temps.push(t);
      return { g: t, off: 0, n: b.n };
    });
    const written = bound.filter((_b, k) => s.bindings[k]![1] === 'read_write');
    if (new Set(written.map((b) => b.g.buf)).size !== written.length) throw new Error(`backend webgpu: kernel '${this.kernel}' writes one buffer through two bindings`);
    let [gx, gy] = groups ?? [Math.ceil(params[0]! / s.wg), 1];
    if (gx === 0 || gy === 0) return;
    if (!groups && gx > 65535) {
      gy = Math.ceil(gx / 65535);
      gx = 65535;
    }
    // Each binding covers its window (at least one value; the pooled buffer may be larger).
    const entry = (b: GWindow, k: number) => ({ binding: k + 1, resource: { buffer: b.g.buf, offset: 4 * b.off, size: Math.min(b.g.buf.size - 4 * b.off, 4 * Math.max(1, b.n)) } });
    const bg = this.device.createBindGroup({
      layout,
      entries: [{ binding: 0, resource: { buffer: this.uniform(params, s.params) } }, ...bound.map(entry)],
    });
    const pass = this.enc().beginComputePass({ label: s.name });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    for (const t of temps) this.release(t);
  }

  /** Compiles and runs a shader given as WGSL text (tests: a broken shader's error names the kernel). */
  debugShader(code: string): void {
    const m = this.device.createShaderModule({ code, label: 'debugShader' });
    this.device.createComputePipeline({ layout: 'auto', compute: { module: m, entryPoint: 'main' } });
  }
}
