// The GPU backend's kernel table: one row per kernel of the Backend interface, each running
// gpu.js kernel sources (./sources/) over the buffers of ./buffers.ts. A kernel added to
// Backend is a type error here until it has its row (KernelTable, src/kernels/backend.ts).
//
// Kernels over whole images (convolution, pooling, bias) run on chunks of images whose
// values fit the device's index limit (trap 3 in device.ts), elementwise ones on ranges of
// at most that many values; the rest refuse longer buffers with a clear error. Dropout masks
// are drawn on the host from the engine's generator, in element order, and uploaded;
// sumOfSquares reads back (it returns a host number).
import type { GdmStep, KernelTable, Strided, WindowGeometry } from '../../backend.js';
import { UNARY_BACKWARD_READS } from '../../backend.js';
import { BackendError } from '../../../util/errors.js';
import type { Storage } from './device.js';
import {
  asGpuBuffer, fillRange, gpuDevice, gpuStorage, indexTable, placeBlock, replaceStorage, storageOf, windowOf, type GpuBuffer,
} from './buffers.js';
import { gemmBlocked } from './gemm.js';
import { idiv } from './sources/common.js';
import {
  avgPoolBackSource, avgPoolSource, BIAS_ADD, biasBackwardSource, COL2IM, CONV_DW, CONV_DX, convForwardSource, IM2COL, MAXPOOL, MAXPOOL_BACK,
} from './sources/conv.js';
import { binaryScalarSource, binarySource, reduceSource, SCATTER_ADD, SCATTER_COPY, unaryBackSource, unarySource } from './sources/elementwise.js';
import { costGradSource, costRowsSource, gdmSource, softmaxBackSource, softmaxSource } from './sources/costs.js';

// ---- Helpers --------------------------------------------------------------------------------

/** A window geometry as kernel constants, with the products the sources use. */
function geometryConstants(g: WindowGeometry): Record<string, number> {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  return { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q, HW: H * W, PQ: P * Q, RS: R * S };
}

/** Image ranges [n0, m) whose per-image spans fit the index limit (trap 3); all N at once on GL. */
function imageChunks(N: number, perImage: number): [number, number][] {
  const lim = gpuDevice().indexLimit;
  const nb = Math.max(1, Math.min(N, Math.floor(lim / Math.max(1, perImage))));
  if (perImage > lim) throw new BackendError(`backend gpu: one image of ${perImage} values exceeds gpu.js's ${lim}-value index range in mode ${gpuDevice().mode}`);
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < N; n0 += nb) out.push([n0, Math.min(nb, N - n0)]);
  return out;
}

/** A clear error where a kernel without windows would index past the index limit. */
function checkIndexRange(op: string, ...lengths: number[]): void {
  const lim = gpuDevice().indexLimit;
  for (const n of lengths) if (n > lim) throw new BackendError(`backend gpu: ${op} over ${n} values exceeds gpu.js's ${lim}-value index range in mode ${gpuDevice().mode}`);
}

/** Runs an elementwise kernel (all arguments indexed like the output) over n values, in windows on webasm; places the result at 0 in `out`. */
function elementwise(name: string, source: string, n: number, consts: Record<string, number>, args: GpuBuffer[], out: GpuBuffer): void {
  if (n === 0) return;
  const d = gpuDevice();
  if (!d.host || n <= d.indexLimit) {
    const r = d.run(name, source, n, consts, args.map((a) => a.storage), [idiv]);
    placeBlock(out, r, 0, 1, n);
    return;
  }
  const results: [number, Storage][] = [];
  for (let o = 0; o < n; o += d.indexLimit) {
    const m = Math.min(d.indexLimit, n - o);
    results.push([o, d.run(name, source, m, consts, args.map((a) => (a.storage as Float32Array).subarray(o, o + m)), [idiv])]);
  }
  for (const [o, r] of results) (out.storage as Float32Array).set(r as Float32Array, o);
}

/** The flat index of each element of a strided view, in row-major order (an index table). */
function stridedIndices(v: Strided): Float32Array {
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

/** The new parameter and velocity from one source (what = 0, 1), both computed before either is stored. */
function gdmPair(source: string, n: number, consts: Record<string, number>, args: GpuBuffer[], param: GpuBuffer, velocity: GpuBuffer): void {
  const d = gpuDevice();
  if (d.host && n > d.indexLimit) {
    for (let o = 0; o < n; o += d.indexLimit) {
      const m = Math.min(d.indexLimit, n - o);
      const a = args.map((x) => (x.storage as Float32Array).subarray(o, o + m));
      const np = d.run('gdm', source, m, { ...consts, what: 0 }, a, [idiv]);
      const nv = d.run('gdm', source, m, { ...consts, what: 1 }, a, [idiv]);
      (param.storage as Float32Array).set(np as Float32Array, o);
      (velocity.storage as Float32Array).set(nv as Float32Array, o);
    }
    return;
  }
  const np = d.run('gdm', source, n, { ...consts, what: 0 }, args.map((a) => a.storage), [idiv]);
  const nv = d.run('gdm', source, n, { ...consts, what: 1 }, args.map((a) => a.storage), [idiv]);
  placeBlock(param, np, 0, 1, n);
  placeBlock(velocity, nv, 0, 1, n);
}

// ---- The table ------------------------------------------------------------------------------

export const gpuKernels: KernelTable = {
  gemm: (transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc) =>
    gemmBlocked({ transA, transB, M, N, K, alpha, A: asGpuBuffer(A), aOffset, lda, B: asGpuBuffer(B), bOffset, ldb, beta, C: asGpuBuffer(C), cOffset, ldc }),

  im2col: (x, xOffset, g, cols, colsOffset = 0, ldCols = g.P * g.Q) => {
    const rows = g.C * g.R * g.S, PQ = g.P * g.Q;
    if (rows * PQ === 0) return;
    const xWin = windowOf(storageOf(x), xOffset, g.C * g.H * g.W);
    checkIndexRange('im2col', rows * PQ);
    const r = gpuDevice().run('im2col', IM2COL, rows * PQ, { ...geometryConstants(g), xo: xWin.offset }, [xWin.storage], [idiv]);
    placeBlock(asGpuBuffer(cols), r, colsOffset, rows, PQ, ldCols);
  },
  col2im: (cols, g, dx, dxOffset, colsOffset = 0, ldCols = g.P * g.Q) => {
    const CHW = g.C * g.H * g.W, rows = g.C * g.R * g.S;
    if (CHW === 0) return;
    const colsWin = windowOf(storageOf(cols), colsOffset, rows === 0 ? 1 : (rows - 1) * ldCols + g.P * g.Q), dxWin = windowOf(storageOf(dx), dxOffset, CHW);
    const consts = { ...geometryConstants(g), co: colsWin.offset, ld: ldCols, dxo: dxWin.offset };
    const r = gpuDevice().run('col2im', COL2IM, CHW, consts, [colsWin.storage, dxWin.storage], [idiv]);
    placeBlock(asGpuBuffer(dx), r, dxOffset, 1, CHW);
  },

  conv2dForward: (x, N, w, K, b, g, y, relu = false) => {
    const CHW = g.C * g.H * g.W, KPQ = K * g.P * g.Q;
    checkIndexRange('conv2d weights', K * g.C * g.R * g.S);
    for (const [n0, m] of imageChunks(N, Math.max(CHW, KPQ))) {
      const xWin = windowOf(storageOf(x), n0 * CHW, m * CHW);
      const args = b ? [xWin.storage, storageOf(w), storageOf(b)] : [xWin.storage, storageOf(w)];
      const r = gpuDevice().run('conv', convForwardSource(b !== null), m * KPQ, { ...geometryConstants(g), K, KPQ, CHW, xo: xWin.offset }, args, [idiv]);
      placeBlock(asGpuBuffer(y), r, n0 * KPQ, 1, m * KPQ);
    }
    // The ReLU as its own pass (gpu.js kernels return one value per thread; the unary kernel's NaN rule stays in one place).
    if (relu) elementwise('unary-relu', unarySource('relu'), N * KPQ, {}, [asGpuBuffer(y)], asGpuBuffer(y));
  },
  // The bias and the ReLU in the gemm kernel's own output (its epilogue).
  linearForward: (x, N, nin, w, nout, b, y, relu = false) =>
    gemmBlocked({ transA: false, transB: true, M: N, N: nout, K: nin, alpha: 1, A: asGpuBuffer(x), aOffset: 0, lda: nin, B: asGpuBuffer(w), bOffset: 0, ldb: nin, beta: 0, C: asGpuBuffer(y), cOffset: 0, ldc: nout, bias: b && asGpuBuffer(b), biasOffset: 0, relu }),
  conv2dBackward: (x, N, w, K, g, dy, dx, dw, db) => {
    const CHW = g.C * g.H * g.W, PQ = g.P * g.Q, KPQ = K * PQ, CRS = g.C * g.R * g.S;
    checkIndexRange('conv2d weights', K * CRS);
    for (const [n0, m] of imageChunks(N, Math.max(CHW, KPQ))) {
      const dyWin = windowOf(storageOf(dy), n0 * KPQ, m * KPQ);
      const consts = { ...geometryConstants(g), K, KPQ, CHW, CRS, NB: m, dyo: dyWin.offset };
      if (dx) {
        const r = gpuDevice().run('convDx', CONV_DX, m * CHW, consts, [dyWin.storage, storageOf(w)], [idiv]);
        placeBlock(asGpuBuffer(dx), r, n0 * CHW, 1, m * CHW);
      }
      if (dw) {
        const xWin = windowOf(storageOf(x), n0 * CHW, m * CHW);
        replaceStorage(asGpuBuffer(dw), gpuDevice().run('convDw', CONV_DW, K * CRS, { ...consts, xo: xWin.offset }, [xWin.storage, dyWin.storage, storageOf(dw)], [idiv]));
      }
      if (db) {
        const dbConsts = { N: m, C: K, HW: PQ, dyo: dyWin.offset };
        replaceStorage(asGpuBuffer(db), gpuDevice().run('biasBack', biasBackwardSource(true), K, dbConsts, [dyWin.storage, storageOf(db)], [idiv]));
      }
    }
  },

  maxPoolForward: (x, N, g, y, argmax) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const xWin = windowOf(storageOf(x), n0 * CHW, m * CHW);
      const consts = { ...geometryConstants(g), xo: xWin.offset };
      const values = gpuDevice().run('maxpool', MAXPOOL, m * CPQ, { ...consts, what: 0 }, [xWin.storage], [idiv]);
      const indices = gpuDevice().run('maxpool', MAXPOOL, m * CPQ, { ...consts, what: 1 }, [xWin.storage], [idiv]);
      placeBlock(asGpuBuffer(y), values, n0 * CPQ, 1, m * CPQ);
      placeBlock(asGpuBuffer(argmax), indices, n0 * CPQ, 1, m * CPQ);
    }
  },
  maxPoolBackward: (dy, argmax, N, g, dx) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const dyWin = windowOf(storageOf(dy), n0 * CPQ, m * CPQ), argmaxWin = windowOf(storageOf(argmax), n0 * CPQ, m * CPQ);
      const dxWin = windowOf(storageOf(dx), n0 * CHW, m * CHW);
      if (!gpuDevice().host && dyWin.offset !== argmaxWin.offset) throw new Error('unreachable: dy and argmax windows differ');
      const consts = { ...geometryConstants(g), yo: dyWin.offset, dxo: dxWin.offset };
      const r = gpuDevice().run('maxpoolBack', MAXPOOL_BACK, m * CHW, consts, [dyWin.storage, argmaxWin.storage, dxWin.storage], [idiv]);
      placeBlock(asGpuBuffer(dx), r, n0 * CHW, 1, m * CHW);
    }
  },
  avgPoolForward: (x, N, g, countPad, y) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const xWin = windowOf(storageOf(x), n0 * CHW, m * CHW);
      const r = gpuDevice().run('avgpool', avgPoolSource(countPad), m * CPQ, { ...geometryConstants(g), xo: xWin.offset }, [xWin.storage], [idiv]);
      placeBlock(asGpuBuffer(y), r, n0 * CPQ, 1, m * CPQ);
    }
  },
  avgPoolBackward: (dy, N, g, countPad, dx) => {
    const CHW = g.C * g.H * g.W, CPQ = g.C * g.P * g.Q;
    for (const [n0, m] of imageChunks(N, Math.max(CHW, CPQ))) {
      const dyWin = windowOf(storageOf(dy), n0 * CPQ, m * CPQ), dxWin = windowOf(storageOf(dx), n0 * CHW, m * CHW);
      const consts = { ...geometryConstants(g), yo: dyWin.offset, dxo: dxWin.offset };
      const r = gpuDevice().run('avgpoolBack', avgPoolBackSource(countPad), m * CHW, consts, [dyWin.storage, dxWin.storage], [idiv]);
      placeBlock(asGpuBuffer(dx), r, n0 * CHW, 1, m * CHW);
    }
  },

  unary: (op, x, y, n) => elementwise(`unary-${op}`, unarySource(op), n, {}, [asGpuBuffer(x)], asGpuBuffer(y)),
  unaryBackward: (op, x, y, dy, dx, n) => {
    const reads = UNARY_BACKWARD_READS[op];
    const operand = reads === 'x' ? x : reads === 'y' ? y : null;
    if (reads !== 'none' && !operand) throw new Error(`unaryBackward('${op}'): needs ${reads}, got null`);
    const args = operand ? [asGpuBuffer(operand), asGpuBuffer(dy)] : [asGpuBuffer(dy)];
    elementwise(`unaryBack-${op}`, unaryBackSource(op), n, {}, args, asGpuBuffer(dx));
  },
  binary: (op, a, b, out) => {
    const o = asGpuBuffer(out);
    const n = a.shape.reduce((p, q) => p * q, 1);
    if (n === 0) return;
    checkIndexRange(`binary ${op}`, n, asGpuBuffer(a.data).n, asGpuBuffer(b.data).n);
    const aIndex = indexTable(`v${viewKey(a)}`, () => stridedIndices(a)), bIndex = indexTable(`v${viewKey(b)}`, () => stridedIndices(b));
    const r = gpuDevice().run(`binary-${op}`, binarySource(op), n, {}, [storageOf(a.data), aIndex, storageOf(b.data), bIndex]);
    placeBlock(o, r, 0, 1, n);
  },
  binaryScalar: (op, a, scalar, out, n, reverse) =>
    elementwise(`binaryScalar-${op}`, binaryScalarSource(op, reverse), n, { scalar }, [asGpuBuffer(a)], asGpuBuffer(out)),
  copy: (x, out) => {
    const n = x.shape.reduce((p, q) => p * q, 1);
    if (n === 0) return;
    const o = asGpuBuffer(out.data);
    checkIndexRange('copy', o.n, asGpuBuffer(x.data).n);
    // For each element of out's buffer, the index in x it takes, or −1 where out keeps its value.
    const sourceIndex = indexTable(`c${viewKey(x)}|${viewKey(out)}|${o.n}`, () => {
      const src = stridedIndices(x), dst = stridedIndices({ ...out, shape: x.shape });
      const t = new Float32Array(o.n).fill(-1);
      for (let i = 0; i < n; i++) t[dst[i]!] = src[i]!;
      return t;
    });
    replaceStorage(o, gpuDevice().run('copy', SCATTER_COPY, o.n, {}, [o.storage, storageOf(x.data), sourceIndex]));
  },

  reduce: (op, x, shape, axes, out, argmax) => {
    const nd = shape.length;
    const reduced = new Array<boolean>(nd).fill(false);
    for (const a of axes) reduced[a] = true;
    const strides = new Array<number>(nd);
    let size = 1;
    for (let k = nd - 1; k >= 0; k--) { strides[k] = size; size *= shape[k]!; }
    const keep = shape.map((d, k) => (reduced[k] ? 1 : d)), red = shape.map((d, k) => (reduced[k] ? d : 1));
    const nOut = keep.reduce((a, b) => a * b, 1), R = red.reduce((a, b) => a * b, 1);
    if (nOut === 0) return;
    checkIndexRange('reduce', size);
    if (R === 0) {
      fillRange(asGpuBuffer(out), op === 'sum' ? 0 : -Infinity, 0, nOut);
      if (argmax) fillRange(asGpuBuffer(argmax), -1, 0, nOut);
      return;
    }
    // Each output's first input (base) and the offsets of the values reduced into it (roff).
    const key = `${shape.join(',')}|${axes.join(',')}`;
    const base = indexTable(`rb${key}`, () => stridedIndices({ data: x, offset: 0, shape: keep, strides }));
    const roff = indexTable(`rr${key}`, () => stridedIndices({ data: x, offset: 0, shape: red, strides }));
    const values = gpuDevice().run(`reduce-${op}`, reduceSource(op), nOut, { R, what: 0 }, [storageOf(x), base, roff]);
    placeBlock(asGpuBuffer(out), values, 0, 1, nOut);
    if (op === 'max' && argmax) {
      const indices = gpuDevice().run('reduce-max', reduceSource('max'), nOut, { R, what: 1 }, [storageOf(x), base, roff]);
      placeBlock(asGpuBuffer(argmax), indices, 0, 1, nOut);
    }
  },
  scatterAdd: (dy, index, n, dx) => {
    if (n === 0) return;
    const d = asGpuBuffer(dx);
    checkIndexRange('scatterAdd', d.n);
    replaceStorage(d, gpuDevice().run('scatterAdd', SCATTER_ADD, d.n, { n }, [storageOf(dy), storageOf(index), d.storage]));
  },
  sumOfSquares: (x, offset, n) => {
    const a = gpuDevice().download(storageOf(x));
    let s = 0;
    for (let i = offset; i < offset + n; i++) s += a[i]! * a[i]!;
    return s;
  },

  softmax: (x, rows, cols, log, y) => {
    checkIndexRange('softmax', rows * cols);
    const r = gpuDevice().run('softmax', softmaxSource(log), rows * cols, { cols }, [storageOf(x)], [idiv]);
    placeBlock(asGpuBuffer(y), r, 0, 1, rows * cols);
  },
  softmaxBackward: (y, dy, rows, cols, log, dx) => {
    checkIndexRange('softmax', rows * cols);
    const r = gpuDevice().run('softmaxBack', softmaxBackSource(log), rows * cols, { cols }, [storageOf(y), storageOf(dy)], [idiv]);
    placeBlock(asGpuBuffer(dx), r, 0, 1, rows * cols);
  },
  costRows: (cost, y, t, rows, K, out) => {
    checkIndexRange('costRows', rows * K);
    placeBlock(asGpuBuffer(out), gpuDevice().run('costRows', costRowsSource(cost), rows, { K }, [storageOf(y), storageOf(t)], [idiv]), 0, 1, rows);
  },
  costGrad: (cost, y, t, n, scale, dy) =>
    elementwise(`costGrad-${cost}`, costGradSource(cost), n, { scale }, [asGpuBuffer(y), asGpuBuffer(t)], asGpuBuffer(dy)),

  biasAdd: (x, b, N, C, HW, y) => {
    const CHW = C * HW;
    for (const [n0, m] of imageChunks(N, CHW)) {
      const xWin = windowOf(storageOf(x), n0 * CHW, m * CHW);
      const r = gpuDevice().run('biasAdd', BIAS_ADD, m * CHW, { C, HW, xo: xWin.offset }, [xWin.storage, storageOf(b)], [idiv]);
      placeBlock(asGpuBuffer(y), r, n0 * CHW, 1, m * CHW);
    }
  },
  biasBackward: (dy, N, C, HW, db, accumulate) => {
    const CHW = C * HW;
    if (N === 0) {
      if (!accumulate) fillRange(asGpuBuffer(db), 0, 0, C);
      return;
    }
    // The first chunk accumulates only when asked; the others onto the first.
    let acc = accumulate;
    for (const [n0, m] of imageChunks(N, CHW)) {
      const dyWin = windowOf(storageOf(dy), n0 * CHW, m * CHW);
      const args = acc ? [dyWin.storage, storageOf(db)] : [dyWin.storage];
      placeBlock(asGpuBuffer(db), gpuDevice().run('biasBack', biasBackwardSource(acc), C, { N: m, C, HW, dyo: dyWin.offset }, args, [idiv]), 0, 1, C);
      acc = true;
    }
  },
  dropoutMask: (mask, n, keep, scale, random) => {
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++) m[i] = random() < keep ? scale : 0;
    gpuStorage.write(mask, 0, m);
  },
  gdmUpdate: (p, g, v, n, step: GdmStep) => {
    if (n === 0) return;
    const consts = { lr: step.lr, scale: step.scale, bsz: step.bsz, mu: step.mu, wdecay: step.wdecay, gclip: step.gclip ?? 0, pclip: step.pclip ?? 0 };
    const param = asGpuBuffer(p);
    if (step.lr === 0) {
      if (v === null) return;
      const velocity = asGpuBuffer(v);
      gdmPair(gdmSource(0, step.nesterov, false, step.pclip !== null), n, consts, [param, velocity], param, velocity);
      return;
    }
    if (g === null) throw new Error('gdmUpdate: a gradient is needed at learning rate ≠ 0');
    if (v === null) {
      elementwise('gdm', gdmSource(1, false, step.gclip !== null, false), n, consts, [param, asGpuBuffer(g)], param);
      return;
    }
    const velocity = asGpuBuffer(v);
    gdmPair(gdmSource(2, step.nesterov, step.gclip !== null, step.pclip !== null), n, consts, [param, asGpuBuffer(g), velocity], param, velocity);
  },
};
