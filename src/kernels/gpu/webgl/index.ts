// The GPU backend: every kernel of the Backend interface as gpu.js kernels (kernels.ts)
// over device-resident buffers (device.ts). float32 only; argmax indices are stored as
// float32 too (exact below 2^24).
//
// A buffer is a handle holding one storage (a pipeline texture on GL, a Float32Array in
// gpu.js's WebAssembly and cpu modes). A kernel computes the values an op changes as a new
// 1-D output; the result replaces the buffer's storage (the old texture is deleted) or is
// placed into it as a block (a PLACE kernel on GL, a host copy otherwise). Values reach the
// host only through `read`. Dropout masks are drawn on the host from the engine's
// generator, in element order, and uploaded; sumOfSquares reads back (it returns a host
// number).
//
// gpu.js starts on first use, not at import: registering this backend costs nothing until
// `-b gpu` (or a test) uses it. GPU_MODE (env TL_GPU_MODE, or setGpuMode) picks a gpu.js
// mode; the default lets gpu.js choose (headlessgl → webgl2 → webgl → webasm → cpu).
import type { Backend, BinaryOp, CostName, DeviceBuffer, DType, FloatArray, GdmStep, Strided, UnaryOp, WindowGeometry } from '../../backend.js';
import { UNARY_BACKWARD_READS } from '../../backend.js';
import { BackendError } from '../../../util/errors.js';
import { Device, type Storage } from './device.js';
import * as K from './kernels.js';

export { Device, GpuUnavailableError, provideGpuJs, type DeviceInfo, type GpuMode } from './device.js';

/** A GPU buffer: n values in one storage (replaced as ops run). */
class GBuf {
  readonly cell: { s: Storage | null };
  constructor(readonly n: number, s: Storage) {
    this.cell = { s };
  }
  get s(): Storage {
    return this.cell.s!;
  }
}

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

const dev = (): Device => gpuDevice();

function buf(b: DeviceBuffer): GBuf {
  if (!(b instanceof GBuf)) throw new Error('backend gpu: a buffer of another backend (or a host array) was passed');
  return b;
}
const S = (b: DeviceBuffer): Storage => buf(b).s;

function make(n: number, s: Storage): DeviceBuffer {
  const b = new GBuf(n, s);
  dev().track(b, b.cell);
  return b as unknown as DeviceBuffer;
}

/** Replaces b's storage with s (deleting the old texture). */
function replace(b: GBuf, s: Storage): void {
  const old = b.cell.s;
  b.cell.s = s;
  if (old !== s) dev().release(old);
}

/** Places r, a rows×cols block, into b at off with row stride ld (r is consumed). */
function place(b: GBuf, r: Storage, off: number, rows: number, cols: number, ld = cols): void {
  const d = dev();
  if (rows * cols === 0) return;
  if (d.host) {
    const dst = b.s as Float32Array, src = r as Float32Array;
    if (ld === cols) dst.set(src.subarray(0, rows * cols), off);
    else for (let i = 0; i < rows; i++) dst.set(src.subarray(i * cols, (i + 1) * cols), off + i * ld);
    return;
  }
  if (off === 0 && rows * cols === b.n && (ld === cols || rows === 1)) {
    replace(b, r);
    return;
  }
  if (b.n <= d.indexLimit) {
    replace(b, d.run('place', K.PLACE, b.n, { off, rows, cols, ld }, [b.s, r], [K.idiv]));
  } else if (ld === cols || rows === 1) {
    splice(b, r, off, rows * cols);
  } else {
    // Past 2^24 on GL (trap 3): one splice per row, each cut out of r by a slice.
    for (let i = 0; i < rows; i++) {
      const row = d.run('slice', K.SLICE, cols, { off: i * cols }, [r], [], true);
      splice(b, row, off + i * ld, cols);
      d.release(row);
    }
  }
  d.release(r);
}

/** b[off .. off + m) ← r[0 .. m) on GL, with integer index arithmetic (exact past 2^24). */
function splice(b: GBuf, r: Storage, off: number, m: number): void {
  replace(b, dev().run('splice', K.SPLICE, b.n, { s: off, e: off + m }, [b.s, r], [], true));
}

/** Storages made for one backend call (GL windows), released when it returns. */
const temps: Storage[] = [];

/**
 * A window of len values from off: a subarray of a host storage (webasm/cpu); on GL the
 * whole texture with the offset kept, or, where off + len passes the index limit (trap 3),
 * a slice texture released when the backend call returns.
 */
function win(s: Storage, off: number, len: number): { s: Storage; off: number } {
  const d = dev();
  if (s instanceof Float32Array && d.host) return { s: s.subarray(off, off + Math.max(len, 1)), off: 0 };
  if (off + len <= d.indexLimit || s instanceof Float32Array) return { s, off };
  const t = d.run('slice', K.SLICE, Math.max(len, 1), { off }, [s], [], true);
  temps.push(t);
  return { s: t, off: 0 };
}

/** Index tables (binary, copy, reduce) by key, uploaded once. */
const tables = new Map<string, Storage>();
function table(key: string, make: () => Float32Array): Storage {
  let t = tables.get(key);
  if (!t) {
    if (tables.size >= 512) {
      for (const [k, v] of tables) {
        dev().release(v);
        tables.delete(k);
        if (tables.size < 256) break;
      }
    }
    t = dev().upload(make());
    tables.set(key, t);
  }
  return t;
}

function geo(g: WindowGeometry): Record<string, number> {
  const { C, H, W, R, S: s, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  return { C, H, W, R, S: s, strideH, strideW, padH, padW, dilH, dilW, P, Q, HW: H * W, PQ: P * Q, RS: R * s };
}

/** Image ranges [n0, m) whose per-image spans fit the index limit (trap 3); all N at once on GL. */
function imageChunks(N: number, perImage: number): [number, number][] {
  const lim = dev().indexLimit;
  const nb = Math.max(1, Math.min(N, Math.floor(lim / Math.max(1, perImage))));
  if (perImage > lim) throw new BackendError(`backend gpu: one image of ${perImage} values exceeds gpu.js's ${lim}-value index range in mode ${dev().mode}`);
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < N; n0 += nb) out.push([n0, Math.min(nb, N - n0)]);
  return out;
}

/** Runs an elementwise kernel (all arguments indexed like the output) over n values, in windows on webasm; places the result at 0 in `out`. */
function elementwise(name: string, source: string, n: number, consts: Record<string, number>, args: GBuf[], out: GBuf): void {
  if (n === 0) return;
  const d = dev();
  if (!d.host || n <= d.indexLimit) {
    const r = d.run(name, source, n, consts, args.map((a) => a.s), [K.idiv]);
    place(out, r, 0, 1, n);
    return;
  }
  const results: [number, Storage][] = [];
  for (let o = 0; o < n; o += d.indexLimit) {
    const m = Math.min(d.indexLimit, n - o);
    results.push([o, d.run(name, source, m, consts, args.map((a) => (a.s as Float32Array).subarray(o, o + m)), [K.idiv])]);
  }
  for (const [o, r] of results) (out.s as Float32Array).set(r as Float32Array, o);
}

// ---- gemm, blocked to the index limit on webasm (trap 3) ------------------------------------------

interface GemmArgs {
  tA: boolean; tB: boolean; M: number; N: number; K: number; alpha: number;
  A: GBuf; ao: number; lda: number; B: GBuf; bo: number; ldb: number; beta: number; C: GBuf; co: number; ldc: number;
}

const spanA = (g: GemmArgs): number => (g.tA ? (g.K - 1) * g.lda + g.M : (g.M - 1) * g.lda + g.K);
const spanB = (g: GemmArgs): number => (g.tB ? (g.N - 1) * g.ldb + g.K : (g.K - 1) * g.ldb + g.N);
const spanC = (g: GemmArgs): number => (g.M - 1) * g.ldc + g.N;

function gemmRun(g: GemmArgs): void {
  if (g.M === 0 || g.N === 0) return;
  const lim = dev().indexLimit;
  const fits = g.M * g.N <= lim && spanC(g) <= lim && (g.K === 0 || (spanA(g) <= lim && spanB(g) <= lim));
  if (!fits) {
    // Split the largest dimension in two (K: the second half accumulates onto the first).
    if (g.K >= g.M && g.K >= g.N && g.K > 1 && (spanA(g) > lim || spanB(g) > lim)) {
      const k1 = g.K >> 1;
      gemmRun({ ...g, K: k1 });
      gemmRun({ ...g, K: g.K - k1, beta: 1, ao: g.ao + (g.tA ? k1 * g.lda : k1), bo: g.bo + (g.tB ? k1 : k1 * g.ldb) });
      return;
    }
    // M first when the output is too long: row blocks of C stay contiguous (one splice on GL).
    if (g.M > 1 && (g.M >= g.N || spanC(g) > lim || g.M * g.N > lim)) {
      const m1 = g.M >> 1;
      gemmRun({ ...g, M: m1 });
      gemmRun({ ...g, M: g.M - m1, ao: g.ao + (g.tA ? m1 : m1 * g.lda), co: g.co + m1 * g.ldc });
      return;
    }
    if (g.N > 1) {
      const n1 = g.N >> 1;
      gemmRun({ ...g, N: n1 });
      gemmRun({ ...g, N: g.N - n1, bo: g.bo + (g.tB ? n1 * g.ldb : n1), co: g.co + n1 });
      return;
    }
    if (g.K > 1) {
      const k1 = g.K >> 1;
      gemmRun({ ...g, K: k1 });
      gemmRun({ ...g, K: g.K - k1, beta: 1, ao: g.ao + (g.tA ? k1 * g.lda : k1), bo: g.bo + (g.tB ? k1 : k1 * g.ldb) });
      return;
    }
  }
  const a = win(g.A.s, g.ao, g.K === 0 ? 1 : spanA(g)), b = win(g.B.s, g.bo, g.K === 0 ? 1 : spanB(g));
  const withC = g.beta !== 0;
  const c = win(g.C.s, g.co, spanC(g));
  const consts = { M: g.M, N: g.N, K: g.K, alpha: g.alpha, beta: g.beta, ao: a.off, lda: g.lda, bo: b.off, ldb: g.ldb, co: c.off, ldc: g.ldc };
  const r = dev().run('gemm', K.gemmSource(g.tA, g.tB, withC), g.M * g.N, consts, withC ? [a.s, b.s, c.s] : [a.s, b.s], [K.idiv]);
  place(g.C, r, g.co, g.M, g.N, g.ldc);
}

// ---- Strided views: index tables ----------------------------------------------------------------

function stridedTable(v: Strided): Float32Array {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const nd = v.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let o = v.offset;
  for (let i = 0; i < n; i++) {
    out[i] = o;
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      o += v.strides[k]!;
      if (idx[k]! < v.shape[k]!) break;
      o -= v.strides[k]! * v.shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}
const viewKey = (v: Strided): string => `${v.offset}:${v.shape.join(',')}:${v.strides.join(',')}`;

function checkIndexRange(op: string, ...lengths: number[]): void {
  const lim = dev().indexLimit;
  for (const n of lengths) if (n > lim) throw new BackendError(`backend gpu: ${op} over ${n} values exceeds gpu.js's ${lim}-value index range in mode ${dev().mode}`);
}

// ---- The backend ------------------------------------------------------------------------------

function alloc(dtype: DType, n: number): DeviceBuffer {
  if (dtype !== 'float32') throw new BackendError(`backend gpu: dtype ${dtype} is not supported (float32 only)`);
  const d = dev();
  d.checkSize(n);
  return make(n, d.host ? new Float32Array(n) : n === 0 ? new Float32Array(0) : d.run('zeros', K.ZEROS, n, {}, []));
}

function fillRange(b: GBuf, value: number, offset: number, n: number): void {
  if (n <= 0) return;
  const d = dev();
  if (d.host) {
    (b.s as Float32Array).fill(value, offset, offset + n);
    return;
  }
  replace(b, d.run('fill', K.FILL, b.n, { off: offset, end: offset + n, value }, [b.s], [], true));
}

const impl: Backend = {
  name: 'gpu',
  description: 'gpu.js kernels on the GPU (WebGL), or gpu.js\'s WebAssembly fallback where there is none; float32',
  dtypes: ['float32'],

  alloc,
  allocIndex: (n) => alloc('float32', n),
  upload: (values: FloatArray) => {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    return make(f.length, dev().upload(f));
  },
  read: (b, offset, n) => {
    const g = buf(b);
    const a = dev().download(g.s);
    return offset === 0 && n === a.length ? a : a.subarray(offset, offset + n);
  },
  write: (b, offset, values) => {
    const g = buf(b), d = dev();
    if (values.length === 0) return;
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    if (d.host) {
      (g.s as Float32Array).set(f, offset);
      return;
    }
    place(g, d.upload(Float32Array.from(f)), offset, 1, f.length);
  },
  fill: (b, value, offset, n) => fillRange(buf(b), value, offset, n),
  dtypeOf: (b) => (buf(b), 'float32'),
  lengthOf: (b) => buf(b).n,
  // textures go back to gpu.js when their buffer is collected (see make)
  release: () => {},

  gemm: (tA, tB, M, N, Kk, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc) =>
    gemmRun({ tA, tB, M, N, K: Kk, alpha, A: buf(A), ao, lda, B: buf(B), bo, ldb, beta, C: buf(C), co, ldc }),

  im2col: (x, xo, g, cols, co = 0, ld = g.P * g.Q) => {
    const rows = g.C * g.R * g.S, PQ = g.P * g.Q;
    if (rows * PQ === 0) return;
    const xs = win(S(x), xo, g.C * g.H * g.W);
    checkIndexRange('im2col', rows * PQ);
    const r = dev().run('im2col', K.IM2COL, rows * PQ, { ...geo(g), xo: xs.off }, [xs.s], [K.idiv]);
    place(buf(cols), r, co, rows, PQ, ld);
  },
  col2im: (cols, g, dx, dxo, co = 0, ld = g.P * g.Q) => {
    const CHW = g.C * g.H * g.W, rows = g.C * g.R * g.S;
    if (CHW === 0) return;
    const cs = win(S(cols), co, rows === 0 ? 1 : (rows - 1) * ld + g.P * g.Q), ds = win(S(dx), dxo, CHW);
    const r = dev().run('col2im', K.COL2IM, CHW, { ...geo(g), co: cs.off, ld, dxo: ds.off }, [cs.s, ds.s], [K.idiv]);
    place(buf(dx), r, dxo, 1, CHW);
  },

  conv2dForward: (x, N, w, Kk, b, g, y) => {
    const CHW = g.C * g.H * g.W, KPQ = Kk * g.P * g.Q;
    checkIndexRange('conv2d weights', Kk * g.C * g.R * g.S);
    for (const [n0, m] of imageChunks(N, Math.max(CHW, KPQ))) {
      const xs = win(S(x), n0 * CHW, m * CHW);
      const args = b ? [xs.s, S(w), S(b)] : [xs.s, S(w)];
      const r = dev().run('conv', K.convForwardSource(b !== null), m * KPQ, { ...geo(g), K: Kk, KPQ, CHW, xo: xs.off }, args, [K.idiv]);
      place(buf(y), r, n0 * KPQ, 1, m * KPQ);
    }
  },
  conv2dBackward: (x, N, w, Kk, g, dy, dx, dw, db) => {
    const CHW = g.C * g.H * g.W, PQ = g.P * g.Q, KPQ = Kk * PQ, CRS = g.C * g.R * g.S;
    checkIndexRange('conv2d weights', Kk * CRS);
    for (const [n0, m] of imageChunks(N, Math.max(CHW, KPQ))) {
      const dys = win(S(dy), n0 * KPQ, m * KPQ);
      const c = { ...geo(g), K: Kk, KPQ, CHW, CRS, NB: m, dyo: dys.off };
      if (dx) {
        const r = dev().run('convDx', K.CONV_DX, m * CHW, c, [dys.s, S(w)], [K.idiv]);
        place(buf(dx), r, n0 * CHW, 1, m * CHW);
      }
      if (dw) {
        const xs = win(S(x), n0 * CHW, m * CHW);
        replace(buf(dw), dev().run('convDw', K.CONV_DW, Kk * CRS, { ...c, xo: xs.off }, [xs.s, dys.s, S(dw)], [K.idiv]));
      }
      if (db) replace(buf(db), dev().run('biasBack', K.biasBackwardSource(true), Kk, { N: m, C: Kk, HW: PQ, dyo: dys.off }, [dys.s, S(db)], [K.idiv]));
    }
  },

  maxPoolForward: (x, N, g, y, argmax) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const xs = win(S(x), n0 * CHW, m * CHW);
      const c = { ...geo(g), xo: xs.off };
      const v = dev().run('maxpool', K.MAXPOOL, m * CPQ, { ...c, what: 0 }, [xs.s], [K.idiv]);
      const a = dev().run('maxpool', K.MAXPOOL, m * CPQ, { ...c, what: 1 }, [xs.s], [K.idiv]);
      place(buf(y), v, n0 * CPQ, 1, m * CPQ);
      place(buf(argmax), a, n0 * CPQ, 1, m * CPQ);
    }
  },
  maxPoolBackward: (dy, argmax, N, g, dx) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const dys = win(S(dy), n0 * CPQ, m * CPQ), as = win(S(argmax), n0 * CPQ, m * CPQ), dxs = win(S(dx), n0 * CHW, m * CHW);
      if (!dev().host && dys.off !== as.off) throw new Error('unreachable: dy and argmax windows differ');
      const r = dev().run('maxpoolBack', K.MAXPOOL_BACK, m * CHW, { ...geo(g), yo: dys.off, dxo: dxs.off }, [dys.s, as.s, dxs.s], [K.idiv]);
      place(buf(dx), r, n0 * CHW, 1, m * CHW);
    }
  },
  avgPoolForward: (x, N, g, countPad, y) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const xs = win(S(x), n0 * CHW, m * CHW);
      const r = dev().run('avgpool', K.avgPoolSource(countPad), m * CPQ, { ...geo(g), xo: xs.off }, [xs.s], [K.idiv]);
      place(buf(y), r, n0 * CPQ, 1, m * CPQ);
    }
  },
  avgPoolBackward: (dy, N, g, countPad, dx) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const dys = win(S(dy), n0 * CPQ, m * CPQ), dxs = win(S(dx), n0 * CHW, m * CHW);
      const r = dev().run('avgpoolBack', K.avgPoolBackSource(countPad), m * CHW, { ...geo(g), yo: dys.off, dxo: dxs.off }, [dys.s, dxs.s], [K.idiv]);
      place(buf(dx), r, n0 * CHW, 1, m * CHW);
    }
  },

  unary: (op: UnaryOp, x, y, n) => elementwise(`unary-${op}`, K.unarySource(op), n, {}, [buf(x)], buf(y)),
  unaryBackward: (op, x, y, dy, dx, n) => {
    const reads = UNARY_BACKWARD_READS[op];
    const u = reads === 'x' ? x : reads === 'y' ? y : null;
    if (reads !== 'none' && !u) throw new Error(`unaryBackward('${op}'): needs ${reads}, got null`);
    elementwise(`unaryBack-${op}`, K.unaryBackSource(op), n, {}, u ? [buf(u), buf(dy)] : [buf(dy)], buf(dx));
  },
  binary: (op: BinaryOp, a, b, out) => {
    const o = buf(out);
    const n = a.shape.reduce((p, q) => p * q, 1);
    if (n === 0) return;
    checkIndexRange(`binary ${op}`, n, buf(a.data).n, buf(b.data).n);
    const ai = table(`v${viewKey(a)}`, () => stridedTable(a)), bi = table(`v${viewKey(b)}`, () => stridedTable(b));
    const r = dev().run(`binary-${op}`, K.binarySource(op), n, {}, [S(a.data), ai, S(b.data), bi]);
    place(o, r, 0, 1, n);
  },
  binaryScalar: (op, a, scalar, out, n, reverse) => elementwise(`binaryScalar-${op}`, K.binaryScalarSource(op, reverse), n, { scalar }, [buf(a)], buf(out)),
  copy: (x, out) => {
    const n = x.shape.reduce((p, q) => p * q, 1);
    if (n === 0) return;
    const o = buf(out.data);
    checkIndexRange('copy', o.n, buf(x.data).n);
    const inv = table(`c${viewKey(x)}|${viewKey(out)}|${o.n}`, () => {
      const src = stridedTable(x), dst = stridedTable({ ...out, shape: x.shape });
      const t = new Float32Array(o.n).fill(-1);
      for (let i = 0; i < n; i++) t[dst[i]!] = src[i]!;
      return t;
    });
    replace(o, dev().run('copy', K.SCATTER_COPY, o.n, {}, [o.s, S(x.data), inv]));
  },

  reduce: (op, x, shape, axes, out, argmax) => {
    const nd = shape.length;
    const reduced = new Array<boolean>(nd).fill(false);
    for (const a of axes) reduced[a] = true;
    const strides = new Array<number>(nd);
    let s = 1;
    for (let k = nd - 1; k >= 0; k--) { strides[k] = s; s *= shape[k]!; }
    const keep = shape.map((d, k) => (reduced[k] ? 1 : d)), red = shape.map((d, k) => (reduced[k] ? d : 1));
    const nOut = keep.reduce((a, b) => a * b, 1), R = red.reduce((a, b) => a * b, 1);
    if (nOut === 0) return;
    checkIndexRange('reduce', s);
    if (R === 0) {
      fillRange(buf(out), op === 'sum' ? 0 : -Infinity, 0, nOut);
      if (argmax) fillRange(buf(argmax), -1, 0, nOut);
      return;
    }
    const key = `${shape.join(',')}|${axes.join(',')}`;
    const base = table(`rb${key}`, () => stridedTable({ data: x, offset: 0, shape: keep, strides }));
    const roff = table(`rr${key}`, () => stridedTable({ data: x, offset: 0, shape: red, strides }));
    const v = dev().run(`reduce-${op}`, K.reduceSource(op), nOut, { R, what: 0 }, [S(x), base, roff]);
    place(buf(out), v, 0, 1, nOut);
    if (op === 'max' && argmax) place(buf(argmax), dev().run('reduce-max', K.reduceSource('max'), nOut, { R, what: 1 }, [S(x), base, roff]), 0, 1, nOut);
  },
  scatterAdd: (dy, index, n, dx) => {
    if (n === 0) return;
    const d = buf(dx);
    checkIndexRange('scatterAdd', d.n);
    replace(d, dev().run('scatterAdd', K.SCATTER_ADD, d.n, { n }, [S(dy), S(index), d.s]));
  },
  sumOfSquares: (x, offset, n) => {
    const a = dev().download(S(x));
    let s = 0;
    for (let i = offset; i < offset + n; i++) s += a[i]! * a[i]!;
    return s;
  },

  softmax: (x, rows, cols, log, y) => {
    checkIndexRange('softmax', rows * cols);
    place(buf(y), dev().run('softmax', K.softmaxSource(log), rows * cols, { cols }, [S(x)], [K.idiv]), 0, 1, rows * cols);
  },
  softmaxBackward: (y, dy, rows, cols, log, dx) => {
    checkIndexRange('softmax', rows * cols);
    place(buf(dx), dev().run('softmaxBack', K.softmaxBackSource(log), rows * cols, { cols }, [S(y), S(dy)], [K.idiv]), 0, 1, rows * cols);
  },
  costRows: (cost: CostName, y, t, rows, Kk, out) => {
    checkIndexRange('costRows', rows * Kk);
    place(buf(out), dev().run('costRows', K.costRowsSource(cost), rows, { K: Kk }, [S(y), S(t)], [K.idiv]), 0, 1, rows);
  },
  costGrad: (cost, y, t, n, scale, dy) => elementwise(`costGrad-${cost}`, K.costGradSource(cost), n, { scale }, [buf(y), buf(t)], buf(dy)),

  biasAdd: (x, b, N, C, HW, y) => {
    const CHW = C * HW;
    for (const [n0, m] of imageChunks(N, CHW)) {
      const xs = win(S(x), n0 * CHW, m * CHW);
      place(buf(y), dev().run('biasAdd', K.BIAS_ADD, m * CHW, { C, HW, xo: xs.off }, [xs.s, S(b)], [K.idiv]), n0 * CHW, 1, m * CHW);
    }
  },
  biasBackward: (dy, N, C, HW, db, accumulate) => {
    const CHW = C * HW;
    if (N === 0) {
      if (!accumulate) fillRange(buf(db), 0, 0, C);
      return;
    }
    let acc = accumulate;
    for (const [n0, m] of imageChunks(N, CHW)) {
      const dys = win(S(dy), n0 * CHW, m * CHW);
      const args = acc ? [dys.s, S(db)] : [dys.s];
      place(buf(db), dev().run('biasBack', K.biasBackwardSource(acc), C, { N: m, C, HW, dyo: dys.off }, args, [K.idiv]), 0, 1, C);
      acc = true;
    }
  },
  dropoutMask: (mask, n, keep, scale, random) => {
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++) m[i] = random() < keep ? scale : 0;
    impl.write(mask, 0, m);
  },
  gdmUpdate: (p, g, v, n, s: GdmStep) => {
    if (n === 0) return;
    const consts = { lr: s.lr, scale: s.scale, bsz: s.bsz, mu: s.mu, wdecay: s.wdecay, gclip: s.gclip ?? 0, pclip: s.pclip ?? 0 };
    const P = buf(p);
    if (s.lr === 0) {
      if (v === null) return;
      const src = K.gdmSource(0, s.nesterov, false, s.pclip !== null);
      const V = buf(v);
      gdmPair(src, n, consts, [P, V], P, V);
      return;
    }
    if (g === null) throw new Error('gdmUpdate: a gradient is needed at learning rate ≠ 0');
    if (v === null) {
      elementwise('gdm', K.gdmSource(1, false, s.gclip !== null, false), n, consts, [P, buf(g)], P);
      return;
    }
    const V = buf(v);
    gdmPair(K.gdmSource(2, s.nesterov, s.gclip !== null, s.pclip !== null), n, consts, [P, buf(g), V], P, V);
  },
};

/** The backend: each call releases the GL windows it made. */
export const gpuBackend: Backend = Object.fromEntries(Object.entries(impl).map(([k, v]) => [k, typeof v !== 'function' ? v : (...a: unknown[]) => {
  try {
    return (v as (...a: unknown[]) => unknown)(...a);
  } finally {
    if (temps.length) for (const t of temps.splice(0)) dev().release(t);
  }
}])) as unknown as Backend;

/** The new parameter and velocity from one source (what = 0, 1), both computed before either is stored. */
function gdmPair(source: string, n: number, consts: Record<string, number>, args: GBuf[], P: GBuf, V: GBuf): void {
  const d = dev();
  if (d.host && n > d.indexLimit) {
    for (let o = 0; o < n; o += d.indexLimit) {
      const m = Math.min(d.indexLimit, n - o);
      const a = args.map((x) => (x.s as Float32Array).subarray(o, o + m));
      const np = d.run('gdm', source, m, { ...consts, what: 0 }, a, [K.idiv]);
      const nv = d.run('gdm', source, m, { ...consts, what: 1 }, a, [K.idiv]);
      (P.s as Float32Array).set(np as Float32Array, o);
      (V.s as Float32Array).set(nv as Float32Array, o);
    }
    return;
  }
  const np = d.run('gdm', source, n, { ...consts, what: 0 }, args.map((a) => a.s), [K.idiv]);
  const nv = d.run('gdm', source, n, { ...consts, what: 1 }, args.map((a) => a.s), [K.idiv]);
  place(P, np, 0, 1, n);
  place(V, nv, 0, 1, n);
}

/**
 * Starts gpu.js for `-b gpu` and says which mode runs: one line on `log`, and a warning on
 * `warn` when it is not a real GPU (the WebAssembly or cpu fallback, or a software
 * renderer such as llvmpipe or SwiftShader). Throws GpuUnavailableError (exit 1) when
 * gpu.js cannot start at all: no silent fallback to another backend.
 */
export function announceGpu(log: (line: string) => void, warn: (line: string) => void): Device {
  const d = gpuDevice();
  log(`backend gpu: gpu.js mode ${d.mode}${d.info.renderer ? ` (renderer: ${d.info.renderer})` : ''}`);
  if (d.info.notAGpu) warn(`warning: backend gpu is not on a real GPU: ${d.info.notAGpu}; expect it to be slower than -b cpu`);
  return d;
}
