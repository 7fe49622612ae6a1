// The webgpu backend's kernels on the device side (in the worker thread): one function per
// kernel of the Backend interface, with its arguments as the main thread sent them (buffers
// resolved to GBufs), each running the WGSL of ./shaders.ts through Gpu.dispatch.
// Convolution is im2col + gemm over chunks of images (columns in a pooled temporary), its
// gradients gemm + col2im and im2col + gemm; dropout masks arrive drawn (./index.ts draws them on the
// host from the engine's generator) and are written as any upload.
import type { BinaryOp, CostName, GdmStep, UnaryOp, WindowGeometry } from '../../backend.js';
import { UNARY_BACKWARD_READS } from '../../backend.js';
import { WINDOW_ALIGN, type GBuf, type GWindow, type Gpu } from './device.js';
import { layout, NO_SPLIT, splitGemm, touched, type Operand, type Part } from './gemm-split.js';
import { gemmShader } from './gemm-shader.js';
import {
  binaryScalarShader, binaryShader, COPY, costGradShader, FILL, FILL_INDEX, gdmShader, MAX_RANK, reduceShader,
  unaryBackShader, unaryShader, type Shader,
} from './shaders.js';
import { longRowKernels } from './long-rows.js';
import { splitKernels, type DStrided } from './split-kernels.js';

/**
 * The longest sum (K) one gemm dispatch runs: llvmpipe stops a shader's loops after 65535
 * iterations in all (./windows.ts, LOOP_STEPS), which the gemm's loop over K in slices of
 * 16 reaches near K = 70,000 (a convolution's weight gradient sums over images × P·Q: 50,176
 * per image for VGG's first layers at 224²). Longer sums run as parts that accumulate.
 */
const GEMM_K_STEPS = 1 << 14;

/** A gemm part cut into parts of at most `most` along K, in order: the caller's beta on the first, the epilogue on the last. */
function sliceK(p: Part, most: number): Part[] {
  if (p.k1 - p.k0 <= most) return [p];
  const out: Part[] = [];
  for (let k = p.k0; k < p.k1; k += most) out.push({ ...p, k0: k, k1: Math.min(p.k1, k + most), firstK: p.firstK && k === p.k0, lastK: p.lastK && k + most >= p.k1 });
  return out;
}

/** Values of one chunk's columns at most (64 MiB). */
const COLS_LIMIT = 1 << 24;
const cache = new Map<string, Shader>();
const shader = (key: string, make: () => Shader): Shader => {
  let s = cache.get(key);
  if (!s) cache.set(key, (s = make()));
  return s;
};

export function deviceKernels(gpu: Gpu): Record<string, (...args: never[]) => void> {
  /** b[offset .. offset + n) ← value, binding windows of b no larger than one binding. */
  const fill = (b: GBuf, value: number, offset: number, n: number): void => {
    const span = gpu.maxBindingElements - WINDOW_ALIGN;
    for (let e0 = offset; e0 < offset + n; e0 += span) {
      const m = Math.min(span, offset + n - e0), start = Math.floor(e0 / WINDOW_ALIGN) * WINDOW_ALIGN;
      gpu.dispatch(b.index ? FILL_INDEX : FILL, [{ g: b, off: start, n: e0 + m - start }], [m, e0 - start, value]);
    }
  };
  /**
   * gemm; `split` gives an operand's column blocks ([split, block stride] for A, B, C: the
   * images of a batch side by side); `bias` and `relu` the epilogue (bias[row], then ReLU).
   * Each operand is bound as the window its block touches; where a window would pass the
   * largest binding, the gemm runs in blocks (./gemm-split.ts).
   */
  const gemm = (tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number, A: GBuf, ao: number, lda: number, B: GBuf, bo: number, ldb: number, beta: number, C: GBuf, co: number, ldc: number,
    split: { a?: [number, number]; b?: [number, number]; c?: [number, number] } = {}, bias: GBuf | null = null, relu = false, biasPerColumn = false): void => {
    if (M === 0 || N === 0) return;
    const [as, abs] = split.a ?? [NO_SPLIT, 0], [bs, bbs] = split.b ?? [NO_SPLIT, 0], [cs, cbs] = split.c ?? [NO_SPLIT, 0];
    const ops: Operand[] = [{ off: ao, ld: lda, split: as, bs: abs }, { off: bo, ld: ldb, split: bs, bs: bbs }, { off: co, ld: ldc, split: cs, bs: cbs }];
    const dims = layout(tA, tB);
    const parts = K === 0
      ? [{ i0: 0, i1: M, j0: 0, j1: N, k0: 0, k1: 0, firstK: true, lastK: true }]
      : splitGemm(ops, dims, { i0: 0, i1: M, j0: 0, j1: N, k0: 0, k1: K }, gpu.maxBindingElements, WINDOW_ALIGN).flatMap((p) => sliceK(p, GEMM_K_STEPS));
    const bufs = [A, B, C];
    for (const p of parts) {
      const epi = p.lastK ? { bias: bias !== null, relu, column: biasPerColumn } : { bias: false, relu: false };
      const s = shader(`gemm${tA}${tB}${epi.bias}${epi.relu}${epi.bias && biasPerColumn}`, () => gemmShader(tA, tB, epi));
      const windows: GWindow[] = [], offs: number[] = [];
      ops.forEach((o, x) => {
        const [rd, cd] = dims[x]!;
        const r = rd === 'i' ? [p.i0, p.i1] : rd === 'j' ? [p.j0, p.j1] : [p.k0, p.k1];
        const c = cd === 'i' ? [p.i0, p.i1] : cd === 'j' ? [p.j0, p.j1] : [p.k0, p.k1];
        if (r[1]! <= r[0]! || c[1]! <= c[0]!) {
          windows.push({ g: bufs[x]!, off: 0, n: 1 });
          offs.push(0);
          return;
        }
        const [lo, hi] = touched(o, r[0]!, r[1]!, c[0]!, c[1]!);
        const start = Math.floor(lo / WINDOW_ALIGN) * WINDOW_ALIGN;
        windows.push({ g: bufs[x]!, off: start, n: hi + 1 - start });
        offs.push(lo - start);
      });
      let bio = 0;
      if (epi.bias) {
        const [b0, b1] = biasPerColumn ? [p.j0, p.j1] : [p.i0, p.i1];
        const start = Math.floor(b0 / WINDOW_ALIGN) * WINDOW_ALIGN;
        windows.push({ g: bias!, off: start, n: b1 - start });
        bio = b0 - start;
      }
      const m = p.i1 - p.i0, n = p.j1 - p.j0;
      gpu.dispatch(s, windows, [m, n, p.k1 - p.k0, alpha, p.firstK ? beta : 1, offs[0]!, lda, offs[1]!, ldb, offs[2]!, ldc, as, abs, bs, bbs, cs, cbs, bio], [Math.ceil(n / 32), Math.ceil(m / 32)]);
    }
  };
  const split = splitKernels(gpu);
  const { im2col, col2im, biasBackward } = split;
  const rowK = longRowKernels(gpu, shader, split.rows);
  /** Chunks of images whose columns [C·R·S, nb·P·Q] fit COLS_LIMIT values and the largest storage binding. */
  const chunks = (N: number, perImage: number): [number, number][] => {
    const limit = Math.min(COLS_LIMIT, gpu.maxBindingElements);
    const nb = Math.max(1, Math.min(N, Math.floor(limit / Math.max(1, perImage))));
    const out: [number, number][] = [];
    for (let n0 = 0; n0 < N; n0 += nb) out.push([n0, Math.min(nb, N - n0)]);
    return out;
  };

  return {
    fill,
    gemm,
    im2col,
    col2im,
    // Convolution: the columns of a chunk of images side by side ([C·R·S, nb·P·Q]), one gemm
    // per chunk; the gemm reads and writes the NCHW tensors through its column split.
    // The bias and the ReLU are the gemm's epilogue: each output is stored once.
    conv2dForward: (x: GBuf, N: number, w: GBuf, K: number, b: GBuf | null, g: WindowGeometry, y: GBuf, relu = false) => {
      const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
      for (const [n0, nb] of chunks(N, CRS * PQ)) {
        const cols = gpu.alloc(CRS * nb * PQ, false);
        im2col(x, n0 * CHW, g, cols, 0, nb * PQ, nb);
        gemm(false, false, K, nb * PQ, CRS, 1, w, 0, CRS, cols, 0, nb * PQ, 0, y, n0 * K * PQ, PQ, { c: [PQ, K * PQ] }, b, relu);
        gpu.release(cols);
      }
    },
    // A dense layer: the bias (one per column of y[N, nout]) and the ReLU are the gemm's epilogue.
    linearForward: (x: GBuf, N: number, nin: number, w: GBuf, nout: number, b: GBuf | null, y: GBuf, relu = false) =>
      gemm(false, true, N, nout, nin, 1, x, 0, nin, w, 0, nin, 0, y, 0, nout, {}, b, relu, true),
    conv2dBackward: (x: GBuf, N: number, w: GBuf, K: number, g: WindowGeometry, dy: GBuf, dx: GBuf | null, dw: GBuf | null, db: GBuf | null) => {
      const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
      if (dx) fill(dx, 0, 0, N * CHW);
      for (const [n0, nb] of chunks(N, CRS * PQ)) {
        const cols = gpu.alloc(CRS * nb * PQ, false);
        const dySplit: [number, number] = [PQ, K * PQ];
        if (dx) {
          gemm(true, false, CRS, nb * PQ, K, 1, w, 0, CRS, dy, n0 * K * PQ, PQ, 0, cols, 0, nb * PQ, { b: dySplit });
          col2im(cols, g, dx, n0 * CHW, 0, nb * PQ, nb);
        }
        if (dw) {
          im2col(x, n0 * CHW, g, cols, 0, nb * PQ, nb);
          gemm(false, true, K, CRS, nb * PQ, 1, dy, n0 * K * PQ, PQ, cols, 0, nb * PQ, 1, dw, 0, CRS, { a: dySplit });
        }
        gpu.release(cols);
      }
      if (db) biasBackward(dy, N, K, PQ, db, true);
    },
    maxPoolForward: split.maxPoolForward,
    maxPoolBackward: split.maxPoolBackward,
    avgPoolForward: split.avgPoolForward,
    avgPoolBackward: split.avgPoolBackward,

    unary: (op: UnaryOp, x: GBuf, y: GBuf, n: number) => gpu.dispatch(shader(`u${op}`, () => unaryShader(op)), [x, y], [n]),
    unaryBackward: (op: UnaryOp, x: GBuf | null, y: GBuf | null, dy: GBuf, dx: GBuf, n: number) => {
      const reads = UNARY_BACKWARD_READS[op];
      const operand = reads === 'x' ? x : reads === 'y' ? y : null;
      if (reads !== 'none' && !operand) throw new Error(`unaryBackward('${op}'): needs ${reads}, got null`);
      gpu.dispatch(shader(`ub${op}`, () => unaryBackShader(op)), operand ? [operand, dy, dx] : [dy, dx], [n]);
    },
    binary: (op: BinaryOp, a: DStrided, b: DStrided, out: GBuf) => {
      const n = a.shape.reduce((p, q) => p * q, 1);
      if (n > 0) split.strided(shader(`b${op}`, () => binaryShader(op)), a, b, out);
    },
    binaryScalar: (op: BinaryOp, a: GBuf, scalar: number, out: GBuf, n: number, reverse: boolean) =>
      gpu.dispatch(shader(`bs${op}${reverse}`, () => binaryScalarShader(op, reverse)), [a, out], [n, scalar]),
    copy: (x: DStrided, out: DStrided) => {
      const n = x.shape.reduce((p, q) => p * q, 1);
      if (n === 0) return;
      if (x.data.buf === out.data.buf) {
        const t = gpu.alloc(x.data.n, false);
        gpu.copy(x.data, 0, t, 0, x.data.n);
        split.strided(COPY, { ...x, data: t }, null, out);
        gpu.release(t);
        return;
      }
      split.strided(COPY, x, null, out);
    },

    reduce: (op: 'sum' | 'max', x: GBuf, shape: readonly number[], axes: readonly number[], out: GBuf, argmax?: GBuf) => {
      if (shape.length > MAX_RANK) throw new Error(`backend webgpu: reduce over rank ${shape.length} (at most ${MAX_RANK})`);
      const red = shape.map((_, k) => (axes.includes(k) ? 1 : 0));
      const nOut = shape.reduce((p, d, k) => p * (red[k] ? 1 : d), 1), R = shape.reduce((p, d, k) => p * (red[k] ? d : 1), 1);
      if (nOut === 0) return;
      if (R === 0) {
        fill(out, op === 'sum' ? 0 : -Infinity, 0, nOut);
        if (argmax) fill(argmax, -1, 0, nOut);
        return;
      }
      split.reduce(shader(`r${op}`, () => reduceShader(op)), x, shape, red.map((f) => f === 1), out, argmax ?? null);
    },
    scatterAdd: split.scatterAdd,

    // Rows too long for one invocation's loops run in chunks of columns (./long-rows.ts).
    softmax: rowK.softmax,
    softmaxBackward: rowK.softmaxBackward,
    costRows: rowK.costRows,
    costGrad: (cost: CostName, y: GBuf, t: GBuf, n: number, scale: number, dy: GBuf) =>
      gpu.dispatch(shader(`cg${cost}`, () => costGradShader(cost)), [y, t, dy], [n, scale]),

    biasAdd: split.biasAdd,
    biasBackward,
    gdmUpdate: (p: GBuf, g: GBuf | null, v: GBuf | null, n: number, step: GdmStep) => {
      if (n === 0) return;
      const params = [n, step.lr, step.scale, step.bsz, step.mu, step.wdecay, step.gclip ?? 0, step.pclip ?? 0];
      if (step.lr === 0) {
        if (v === null) return;
        gpu.dispatch(shader(`g0${step.nesterov}${step.pclip !== null}`, () => gdmShader(0, step.nesterov, false, step.pclip !== null)), [p, v], params);
        return;
      }
      if (g === null) throw new Error('gdmUpdate: a gradient is needed at learning rate ≠ 0');
      if (v === null) {
        gpu.dispatch(shader(`g1${step.gclip !== null}`, () => gdmShader(1, false, step.gclip !== null, false)), [p, g], params);
        return;
      }
      const key = `g2${step.nesterov}${step.gclip !== null}${step.pclip !== null}`;
      gpu.dispatch(shader(key, () => gdmShader(2, step.nesterov, step.gclip !== null, step.pclip !== null)), [p, g, v], params);
    },
  };
}
