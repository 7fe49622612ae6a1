// The fast backend's storage: float32 buffers as Float32Arrays over SharedArrayBuffers,
// which every thread reads and writes directly; released buffers are handed out again.
// float64 buffers (gradient checks) are plain Float64Arrays, for the reference kernels.
import type { DeviceBuffer, FloatArray, StorageMethods } from '../../backend.js';
import { hostStorage, unboxed, type HostArray } from '../ref/storage.js';

/** Whether an array lives in shared memory, which the worker threads can reach (null: nothing to reach). */
export function isShared(a: FloatArray | HostArray | null): boolean {
  return a === null || a.buffer instanceof SharedArrayBuffer;
}

/**
 * Bytes of shared buffers allocated between two collections (collect.ts): V8 would let
 * them pile up (dead ones wait for the next collection: this bounds them). A collection
 * on a small heap is cheap next to a forward pass that allocates several times this much.
 */
const COLLECT_BYTES = 64 * 2 ** 20;
let allocatedBytes = 0;
let onBudget: (() => void) | null = null;

/** Sets what runs once COLLECT_BYTES have been allocated (the thread pool's collection). */
export function onAllocationBudget(fn: () => void): void {
  onBudget = fn;
}

/**
 * Released buffers (Backend.release), by length, for alloc to hand out again, up to this
 * many bytes in all. Fresh shared memory is expensive where it is first touched: the
 * kernel maps and zeroes it page by page (bench/README.md has the figures), and it counts
 * towards the next collection. A reused buffer costs one fill with zeros.
 */
const FREE_LIMIT_BYTES = 256 * 2 ** 20;
const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
/** The buffers sharedF32 made: only those are taken back (an uploaded array stays its owner's). */
const ours = new WeakSet<Float32Array>();

/** n float32 zeros in shared memory (a released buffer of that length if there is one). */
export function sharedF32(n: number): Float32Array {
  const reused = free.get(n)?.pop();
  if (reused) {
    freeBytes -= 4 * n;
    return reused.fill(0);
  }
  allocatedBytes += 4 * n;
  if (allocatedBytes > COLLECT_BYTES && onBudget) {
    allocatedBytes = 0;
    onBudget();
  }
  const a = new Float32Array(new SharedArrayBuffer(4 * n));
  ours.add(a);
  return a;
}

/** Keeps a buffer for reuse (see FREE_LIMIT_BYTES); past the limit it is left to the collector. */
export function releaseF32(a: Float32Array): void {
  if (!ours.has(a) || a.length === 0 || freeBytes + a.byteLength > FREE_LIMIT_BYTES) return;
  const list = free.get(a.length) ?? [];
  if (list.includes(a)) return; // released twice: once is enough
  list.push(a);
  free.set(a.length, list);
  freeBytes += a.byteLength;
}

/** The fast backend's storage: float32 in shared memory; float64 as the reference keeps it. */
export function simdStorage(): StorageMethods {
  const base = hostStorage('cpu', unboxed);
  return {
    ...base,
    alloc: (dtype, n) => (dtype === 'float64' ? base.alloc(dtype, n) : (sharedF32(n) as unknown as DeviceBuffer)),
    // shared too, so that the pooling threads write the argmax indices in place
    allocIndex: (n) => new Int32Array(new SharedArrayBuffer(4 * n)) as unknown as DeviceBuffer,
    upload: (values) => {
      if (values instanceof Float32Array && !isShared(values)) {
        const s = sharedF32(values.length);
        s.set(values);
        return s as unknown as DeviceBuffer;
      }
      return values as unknown as DeviceBuffer;
    },
    release: (b) => {
      if (b instanceof Float32Array) releaseF32(b);
    },
  };
}
