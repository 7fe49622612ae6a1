// The GPU backend's buffers: the started device, the handle a DeviceBuffer is, how a kernel's
// result is put into a buffer, windows onto long buffers, the index tables of strided views,
// and the storage methods of the Backend interface.
//
// A buffer is a handle holding one storage (a pipeline texture on GL, a Float32Array in
// gpu.js's WebAssembly and cpu modes). A kernel computes the values an op changes as a new
// 1-D output; the result replaces the buffer's storage (the old texture is deleted) or is
// placed into it as a block (a PLACE kernel on GL, a host copy otherwise). Values reach the
// host only through `read`.
//
// gpu.js starts on first use, not at import: registering this backend costs nothing until
// `-b gpu` (or a test) uses it. The mode (env TL_GPU_MODE, or setGpuMode) picks a gpu.js
// mode; the default lets gpu.js choose (headlessgl → webgl2 → webgl → webasm → cpu).
import type { DeviceBuffer, DType, FloatArray, StorageMethods } from '../../backend.js';
import { BackendError } from '../../../util/errors.js';
import { Device, type Storage } from './device.js';
import { FILL, PLACE, SLICE, SPLICE, ZEROS, idiv } from './sources/common.js';

// ---- The started device -----------------------------------------------------------------------

let device: Device | null = null;
let requestedMode: string | undefined;

/** Chooses the gpu.js mode for the next start (undefined/'auto': gpu.js picks). Resets a started device. */
export function setGpuMode(mode: string | undefined): void {
  requestedMode = mode;
  device = null;
}

/** The started device (starts gpu.js on first call; throws GpuUnavailableError when it cannot). */
export function gpuDevice(): Device {
  if (!device) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    device = new Device(requestedMode ?? env?.TL_GPU_MODE);
  }
  return device;
}

/** Whether gpu.js has been started (tests: registering does not start it). */
export function gpuStarted(): boolean {
  return device !== null;
}

// ---- Handles --------------------------------------------------------------------------------

/**
 * A GPU buffer: n values in one storage (replaced as ops run). The storage sits in a cell
 * that the device's finalizer holds, so the texture is deleted when the handle is collected.
 */
export class GpuBuffer {
  readonly cell: { storage: Storage | null };
  constructor(readonly n: number, storage: Storage) {
    this.cell = { storage };
  }
  get storage(): Storage {
    return this.cell.storage!;
  }
}

/** The GpuBuffer behind a DeviceBuffer (an error for another backend's buffer or a host array). */
export function asGpuBuffer(b: DeviceBuffer): GpuBuffer {
  if (!(b instanceof GpuBuffer)) throw new Error('backend gpu: a buffer of another backend (or a host array) was passed');
  return b;
}

/** The current storage of a DeviceBuffer. */
export const storageOf = (b: DeviceBuffer): Storage => asGpuBuffer(b).storage;

function newBuffer(n: number, storage: Storage): DeviceBuffer {
  const b = new GpuBuffer(n, storage);
  gpuDevice().track(b, b.cell);
  return b as unknown as DeviceBuffer;
}

// ---- Putting results into buffers -----------------------------------------------------------

/** Replaces b's storage with s (deleting the old texture). */
export function replaceStorage(b: GpuBuffer, s: Storage): void {
  const old = b.cell.storage;
  b.cell.storage = s;
  if (old !== s) gpuDevice().release(old);
}

/** Places r, a rows×cols block, into b at off with row stride ld (r is consumed). */
export function placeBlock(b: GpuBuffer, r: Storage, off: number, rows: number, cols: number, ld = cols): void {
  const d = gpuDevice();
  if (rows * cols === 0) return;
  if (d.host) {
    const dst = b.storage as Float32Array, src = r as Float32Array;
    if (ld === cols) dst.set(src.subarray(0, rows * cols), off);
    else for (let i = 0; i < rows; i++) dst.set(src.subarray(i * cols, (i + 1) * cols), off + i * ld);
    return;
  }
  if (off === 0 && rows * cols === b.n && (ld === cols || rows === 1)) {
    replaceStorage(b, r);
    return;
  }
  if (b.n <= d.indexLimit) {
    replaceStorage(b, d.run('place', PLACE, b.n, { off, rows, cols, ld }, [b.storage, r], [idiv]));
  } else if (ld === cols || rows === 1) {
    spliceRange(b, r, off, rows * cols);
  } else {
    // Past 2^24 on GL (trap 3): one splice per row, each cut out of r by a slice.
    for (let i = 0; i < rows; i++) {
      const row = d.run('slice', SLICE, cols, { off: i * cols }, [r], [], true);
      spliceRange(b, row, off + i * ld, cols);
      d.release(row);
    }
  }
  d.release(r);
}

/** b[off .. off + m) ← r[0 .. m) on GL, with integer index arithmetic (exact past 2^24). */
function spliceRange(b: GpuBuffer, r: Storage, off: number, m: number): void {
  replaceStorage(b, gpuDevice().run('splice', SPLICE, b.n, { s: off, e: off + m }, [b.storage, r], [], true));
}

/** b[offset .. offset + n) ← value. */
export function fillRange(b: GpuBuffer, value: number, offset: number, n: number): void {
  if (n <= 0) return;
  const d = gpuDevice();
  if (d.host) {
    (b.storage as Float32Array).fill(value, offset, offset + n);
    return;
  }
  replaceStorage(b, d.run('fill', FILL, b.n, { off: offset, end: offset + n, value }, [b.storage], [], true));
}

// ---- Windows onto long buffers ----------------------------------------------------------------

/** Storages made for one backend call (GL windows), released when it returns (releaseCallTemporaries). */
const callTemporaries: Storage[] = [];

/** Releases the windows the backend call that is returning made. */
export function releaseCallTemporaries(): void {
  if (callTemporaries.length) for (const t of callTemporaries.splice(0)) gpuDevice().release(t);
}

/** A storage to pass to a kernel, and the offset at which the values it wants start in it. */
export interface Window {
  storage: Storage;
  offset: number;
}

/**
 * A window of len values from off: a subarray of a host storage (webasm/cpu); on GL the
 * whole texture with the offset kept, or, where off + len passes the index limit (trap 3),
 * a slice texture released when the backend call returns.
 */
export function windowOf(s: Storage, off: number, len: number): Window {
  const d = gpuDevice();
  if (s instanceof Float32Array && d.host) return { storage: s.subarray(off, off + Math.max(len, 1)), offset: 0 };
  if (off + len <= d.indexLimit || s instanceof Float32Array) return { storage: s, offset: off };
  const t = d.run('slice', SLICE, Math.max(len, 1), { off }, [s], [], true);
  callTemporaries.push(t);
  return { storage: t, offset: 0 };
}

// ---- Index tables ---------------------------------------------------------------------------

/** Index tables (binary, copy, reduce) by key, uploaded once; the oldest half goes past 512. */
const indexTables = new Map<string, Storage>();
export function indexTable(key: string, make: () => Float32Array): Storage {
  let t = indexTables.get(key);
  if (!t) {
    if (indexTables.size >= 512) {
      for (const [k, v] of indexTables) {
        gpuDevice().release(v);
        indexTables.delete(k);
        if (indexTables.size < 256) break;
      }
    }
    t = gpuDevice().upload(make());
    indexTables.set(key, t);
  }
  return t;
}

// ---- Storage methods ------------------------------------------------------------------------

function alloc(dtype: DType, n: number): DeviceBuffer {
  if (dtype !== 'float32') throw new BackendError(`backend gpu: dtype ${dtype} is not supported (float32 only)`);
  const d = gpuDevice();
  d.checkSize(n);
  return newBuffer(n, d.host ? new Float32Array(n) : n === 0 ? new Float32Array(0) : d.run('zeros', ZEROS, n, {}, []));
}

/** The storage half of the backend: float32 buffers, argmax indices stored as float32 too (exact below 2^24). */
export const gpuStorage: StorageMethods = {
  alloc,
  allocIndex: (n) => alloc('float32', n),
  upload: (values: FloatArray) => {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    return newBuffer(f.length, gpuDevice().upload(f));
  },
  read: (b, offset, n) => {
    const a = gpuDevice().download(storageOf(b));
    return offset === 0 && n === a.length ? a : a.subarray(offset, offset + n);
  },
  write: (b, offset, values) => {
    const g = asGpuBuffer(b), d = gpuDevice();
    if (values.length === 0) return;
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    if (d.host) {
      (g.storage as Float32Array).set(f, offset);
      return;
    }
    placeBlock(g, d.upload(Float32Array.from(f)), offset, 1, f.length);
  },
  fill: (b, value, offset, n) => fillRange(asGpuBuffer(b), value, offset, n),
  dtypeOf: (b) => (asGpuBuffer(b), 'float32'),
  lengthOf: (b) => asGpuBuffer(b).n,
  // textures go back to gpu.js when their buffer is collected (see newBuffer)
  release: () => {},
};
