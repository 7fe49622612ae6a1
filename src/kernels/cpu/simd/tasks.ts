// The tasks threads run (pool.ts): each kind of job and how its task t is computed with a
// thread's own WebAssembly instance. Shared by the main thread and the workers.
import type { FloatArray, GdmStep, UnaryOp, BinaryOp, WindowGeometry } from '../../backend.js';
import { conv2dBackward, conv2dForward, setWinogradTile, withFilters, type ConvContext, type WinogradTileMode } from './conv.js';
import { checkArgs, gemm as refGemm } from '../ref/gemm.js';
import { binaryScalar, unary, unaryBackward } from '../ref/elementwise.js';
import { gdmUpdate } from '../ref/gdm.js';
import { biasAdd } from '../ref/bias.js';
import { copyRow, gemmTask, planGemm, vanishingProduct, type GemmJob } from './gemm.js';
import { winogradGradOutput, winogradInput, winogradOutput, winogradWeightsRange } from './winograd.js';
import { simd43Transforms, simdWinograd43WeightsRange, winograd43GradOutputChannels, winograd43InputChannels, winograd43OutputChannels } from './simd-winograd43-run.js';
import type { SimdInstance } from './simd.js';
import { Arena } from './arena.js';
import { reluBackward, reluForward } from './relu.js';
import { maxPoolBackward, maxPoolForward } from '../ref/pool.js';

/** Forward convolution of images [lo, hi) of group t (groups of ⌈N / groups⌉ images). */
export interface ConvForwardJob {
  kind: 'convForward';
  x: Float32Array; N: number; w: Float32Array; K: number; b: Float32Array | null; g: WindowGeometry; y: Float32Array; groups: number;
  /** max(0, ·) after the bias, in the epilogue (./epilogue.ts). */
  relu: boolean;
  /** The main thread's Winograd tile mode (setWinogradTile), so that every thread chooses alike. */
  tile: WinogradTileMode;
  /** The filters transformed once for that tile (conv.ts, winogradFilters), in shared memory; null: im2col, or each task transforms them. */
  U: Float32Array | null;
}

/** Gradients of images of group t: dx of those images (overwritten), and their weight gradient into dwParts[t·K·C·R·S ..] (zeroed by the caller). */
export interface ConvBackwardJob {
  kind: 'convBackward';
  x: Float32Array; N: number; w: Float32Array; K: number; g: WindowGeometry; dy: Float32Array;
  dx: Float32Array | null; dwParts: Float32Array | null; groups: number;
  tile: WinogradTileMode;
  /** The flipped filters of the input gradient, transformed once (as ConvForwardJob's U). */
  U: Float32Array | null;
}

/**
 * The forward convolution of one image x[C, H, W] in horizontal bands of output rows (for
 * a batch of one, where image groups give no parallelism): band t computes output rows
 * [t·rows, (t+1)·rows) from the input rows under them (zero rows where they pass the
 * padding), copied into a contiguous local image, as a convolution without vertical
 * padding. rows is a multiple of 4, so Winograd's 2 × 2 and 4 × 4 output tiles fall as in the whole image (the
 * result is then the same bit for bit as one thread's).
 */
export interface ConvBandJob {
  kind: 'convBand';
  x: Float32Array; w: Float32Array; K: number; b: Float32Array | null; g: WindowGeometry; y: Float32Array; rows: number;
  relu: boolean;
  tile: WinogradTileMode;
  /** The filters transformed once (as ConvForwardJob's U): every band would transform them alike. */
  U: Float32Array | null;
}

/** An elementwise kernel over n values, cut into ranges of `chunk`. */
export type MapJob = { chunk: number; n: number } & (
  | { kind: 'unary'; op: UnaryOp; x: Float32Array; y: Float32Array }
  | { kind: 'unaryBackward'; op: UnaryOp; x: Float32Array | null; y: Float32Array | null; dy: Float32Array; dx: Float32Array }
  | { kind: 'binaryScalar'; op: BinaryOp; a: Float32Array; scalar: number; out: Float32Array; reverse: boolean }
  | { kind: 'gdm'; p: Float32Array; g: Float32Array | null; v: Float32Array | null; step: GdmStep }
  /** n = N·C rows of HW values (chunk in rows). */
  | { kind: 'biasAdd'; x: Float32Array; b: Float32Array; C: number; HW: number; y: Float32Array }
  /** n = N·C planes (chunk in planes), each pooled on its own: argmax indices are within a plane. */
  | { kind: 'maxPoolForward'; x: Float32Array; g: WindowGeometry; y: Float32Array; argmax: Int32Array }
  | { kind: 'maxPoolBackward'; dy: Float32Array; argmax: Int32Array; g: WindowGeometry; dx: Float32Array }
);

/** Winograd's filter transform (winogradWeights) of w's output channels [t·chunk, (t+1)·chunk) into U. */
export interface WinogradWeightsJob {
  kind: 'winogradWeights';
  w: Float32Array; K: number; C: number; flip: boolean; U: Float32Array; chunk: number;
  /** 2: F(2×2, 3×3)'s transform (winograd.ts), 4: F(4×4, 3×3)'s (winograd43.ts). */
  tile: 2 | 4;
}

/**
 * One of F(2×2, 3×3)'s plane-wise transforms (simdWinogradInput, simdWinogradOutput,
 * simdWinogradGradOutput, with their arguments) on planes [t·chunk, (t+1)·chunk) of its
 * n = m·ch: each plane is transformed on its own, so the result is one thread's bit for bit.
 */
export interface WinogradTransformJob {
  kind: 'winogradTransform';
  /** F(2×2, 3×3)'s (n: planes, image by image) or F(4×4, 3×3)'s ('…43'; n: channels, each over every image of the chunk). */
  transform: 'input' | 'output' | 'gradOutput' | 'input43' | 'output43' | 'gradOutput43';
  src: Float32Array; dst: Float32Array;
  /** Images n0 .. n0 + m of ch channels: C for the input, K for the output and the output gradient. */
  n0: number; m: number; ch: number;
  /** The input's plane and padding (input), or the T tiles and the P × Q output planes (output, gradOutput). */
  H: number; W: number; padH: number; padW: number; T: number; P: number; Q: number;
  TH: number; TW: number;
  n: number; chunk: number;
}

/** `count` gemms of one shape (winograd.ts, gemmBatch): task t is block t mod per of gemm ⌊t / per⌋, whose offsets are the first's plus i·stride. */
export interface GemmBatchJob {
  kind: 'gemmBatch';
  first: GemmJob; count: number; per: number; aStride: number; bStride: number; cStride: number;
}

export type Job = GemmJob | GemmBatchJob | ConvForwardJob | ConvBackwardJob | ConvBandJob | MapJob | WinogradWeightsJob | WinogradTransformJob;

/** A gemm that runs every block on this thread's instance (inside a task: no nested parallelism). */
function localGemm(inst: SimdInstance): typeof refGemm {
  return (transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc) => {
    if (!(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array)) {
      refGemm(transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc);
      return;
    }
    if (M === 0 || N === 0 || K === 0 || alpha === 0) {
      checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
      vanishingProduct(M, N, K, alpha, beta, C, cOffset, ldc);
      return;
    }
    const plan = planGemm(M, N, inst.MR, inst.NR, 1);
    const job: GemmJob = { kind: 'gemm', transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc, ...plan };
    for (let t = 0; t < plan.tasks; t++) gemmTask(inst, job, t);
  };
}

const localContexts = new WeakMap<SimdInstance, ConvContext>();
const localArenas = new WeakMap<SimdInstance, Arena>();

/**
 * The convolution context of one thread, for one task: its local SIMD gemm, float32
 * scratch from the thread's arena (taken back when its next task starts).
 */
function localConv(inst: SimdInstance): ConvContext {
  let ctx = localContexts.get(inst);
  let arena = localArenas.get(inst);
  if (!ctx || !arena) {
    const gemm = localGemm(inst);
    const a = (arena = new Arena(false));
    ctx = {
      gemm,
      alloc: (dtype, n) => (dtype === 'float64' ? new Float64Array(n) : a.alloc(n)),
      winograd: { gemm, alloc: (n) => a.alloc(n), input: simdWinogradInput(inst), output: simdWinogradOutput(inst), gradOutput: simdWinogradGradOutput(inst), ...simd43Transforms(inst) },
    };
    localContexts.set(inst, ctx);
    localArenas.set(inst, arena);
  }
  arena.reset();
  return ctx;
}

/** Images [lo, hi) of group t when N images go in `groups` groups. */
function groupRange(N: number, groups: number, t: number): [number, number] {
  const per = Math.ceil(N / groups);
  return [Math.min(N, t * per), Math.min(N, (t + 1) * per)];
}

export function runTask(inst: SimdInstance, job: Job, t: number): void {
  if (job.kind === 'convForward' || job.kind === 'convBackward' || job.kind === 'convBand') setWinogradTile(job.tile);
  switch (job.kind) {
    case 'gemm':
      gemmTask(inst, job, t);
      return;
    case 'gemmBatch': {
      const i = Math.floor(t / job.per), f = job.first;
      gemmTask(inst, { ...f, aOffset: f.aOffset + i * job.aStride, bOffset: f.bOffset + i * job.bStride, cOffset: f.cOffset + i * job.cStride }, t - i * job.per);
      return;
    }
    case 'convForward': {
      const { g, K } = job;
      const [lo, hi] = groupRange(job.N, job.groups, t);
      if (hi <= lo) return;
      const CHW = g.C * g.H * g.W, KPQ = K * g.P * g.Q;
      conv2dForward(job.x.subarray(lo * CHW, hi * CHW), hi - lo, job.w, K, job.b, g, job.y.subarray(lo * KPQ, hi * KPQ), withFilters(localConv(inst), job.U), job.relu);
      return;
    }
    case 'convBackward': {
      const { g, K } = job;
      const [lo, hi] = groupRange(job.N, job.groups, t);
      if (hi <= lo) return;
      const CHW = g.C * g.H * g.W, KPQ = K * g.P * g.Q, KCRS = K * g.C * g.R * g.S;
      conv2dBackward(
        job.x.subarray(lo * CHW, hi * CHW), hi - lo, job.w, K, g, job.dy.subarray(lo * KPQ, hi * KPQ),
        job.dx && job.dx.subarray(lo * CHW, hi * CHW), job.dwParts && job.dwParts.subarray(t * KCRS, (t + 1) * KCRS), null, withFilters(localConv(inst), job.U),
      );
      return;
    }
    case 'convBand':
      convBand(inst, job, t);
      return;
    case 'winogradTransform': {
      const q0 = t * job.chunk, q1 = Math.min(job.n, q0 + job.chunk);
      const { src, dst, n0, m, ch, TH, TW } = job;
      if (q1 <= q0) return;
      if (job.transform === 'input') winogradInputPlanes(inst, src, n0, m, ch, job.H, job.W, job.padH, job.padW, TH, TW, dst, q0, q1);
      else if (job.transform === 'output') winogradOutputPlanes(inst, src, n0, ch, job.T, TH, TW, job.P, job.Q, dst, q0, q1);
      else if (job.transform === 'gradOutput') winogradGradOutputPlanes(inst, src, n0, ch, job.T, TH, TW, job.P, job.Q, dst, q0, q1);
      else if (job.transform === 'input43') winograd43InputChannels(inst, src, n0, m, ch, job.H, job.W, job.padH, job.padW, TH, TW, dst, q0, q1);
      else if (job.transform === 'output43') winograd43OutputChannels(inst, src, n0, m, ch, job.T, TH, TW, job.P, job.Q, dst, q0, q1);
      else winograd43GradOutputChannels(inst, src, n0, m, ch, job.T, TH, TW, job.P, job.Q, dst, q0, q1);
      return;
    }
    case 'winogradWeights': {
      const k0 = t * job.chunk;
      (job.tile === 4 ? simdWinograd43WeightsRange(inst) : winogradWeightsRange)(job.w, job.K, job.C, job.flip, job.U, k0, Math.min(job.K, k0 + job.chunk));
      return;
    }
    default:
      mapTask(job, t);
  }
}

function mapTask(job: MapJob, t: number): void {
  const lo = t * job.chunk, hi = Math.min(job.n, lo + job.chunk);
  if (hi <= lo) return;
  const r = <T extends FloatArray | null>(a: T): T => (a === null ? a : (a.subarray(lo, hi) as T));
  switch (job.kind) {
    case 'unary':
      if (job.op === 'relu') reluForward(r(job.x), r(job.y), hi - lo);
      else unary(job.op, r(job.x), r(job.y), hi - lo);
      return;
    case 'unaryBackward':
      if (job.op === 'relu' && job.y) reluBackward(r(job.y), r(job.dy), r(job.dx), hi - lo);
      else unaryBackward(job.op, r(job.x), r(job.y), r(job.dy), r(job.dx), hi - lo);
      return;
    case 'binaryScalar':
      binaryScalar(job.op, r(job.a), job.scalar, r(job.out), hi - lo, job.reverse);
      return;
    case 'gdm':
      gdmUpdate(r(job.p), r(job.g), r(job.v), hi - lo, job.step);
      return;
    case 'biasAdd': {
      // rows lo .. hi of [N·C, HW]; row i has channel i mod C
      const { C, HW } = job;
      for (let i = lo; i < hi; i++) {
        const c = i % C;
        biasAdd(job.x.subarray(i * HW, (i + 1) * HW), job.b.subarray(c, c + 1), 1, 1, HW, job.y.subarray(i * HW, (i + 1) * HW));
      }
      return;
    }
    case 'maxPoolForward': {
      // planes lo .. hi as one image of hi − lo channels
      const { g } = job, HW = g.H * g.W, PQ = g.P * g.Q;
      maxPoolForward(job.x.subarray(lo * HW, hi * HW), 1, { ...g, C: hi - lo }, job.y.subarray(lo * PQ, hi * PQ), job.argmax.subarray(lo * PQ, hi * PQ));
      return;
    }
    case 'maxPoolBackward': {
      const { g } = job, HW = g.H * g.W, PQ = g.P * g.Q;
      maxPoolBackward(job.dy.subarray(lo * PQ, hi * PQ), job.argmax.subarray(lo * PQ, hi * PQ), 1, { ...g, C: hi - lo }, job.dx.subarray(lo * HW, hi * HW));
      return;
    }
  }
}

function convBand(inst: SimdInstance, job: ConvBandJob, t: number): void {
  const { g, K, x, y } = job;
  const p0 = t * job.rows, p1 = Math.min(g.P, p0 + job.rows);
  if (p1 <= p0) return;
  // input rows [h0, h1) feed output rows [p0, p1)
  const h0 = p0 * g.strideH - g.padH, h1 = (p1 - 1) * g.strideH - g.padH + g.dilH * (g.R - 1) + 1;
  const hb = h1 - h0, HW = g.H * g.W, bandHW = hb * g.W;
  const ctx = localConv(inst);
  const xb = ctx.winograd.alloc(g.C * bandHW); // zeros: the rows outside the image
  const lo = Math.max(0, h0), hi = Math.min(g.H, h1);
  for (let c = 0; c < g.C; c++) {
    if (hi > lo) xb.set(x.subarray(c * HW + lo * g.W, c * HW + hi * g.W), c * bandHW + (lo - h0) * g.W);
  }
  const gb: WindowGeometry = { ...g, H: hb, padH: 0, P: p1 - p0 };
  const PQb = gb.P * g.Q, PQ = g.P * g.Q;
  const yb = ctx.winograd.alloc(K * PQb);
  conv2dForward(xb, 1, job.w, K, job.b, gb, yb, withFilters(ctx, job.U), job.relu);
  for (let k = 0; k < K; k++) y.set(yb.subarray(k * PQb, (k + 1) * PQb), k * PQ + p0 * g.Q);
}

/**
 * Winograd's input transform on this thread's instance (simd-winograd.ts), under the
 * contract of winogradInput (winograd.ts, the JavaScript transform, used instead for
 * float64 data or without the module). Per plane: the plane is copied into the instance's
 * memory with its zero border, transformed four tiles at a time into 16 planes of tile
 * rows padded to a multiple of 4, and those are copied into V[16, C, T].
 */
export function simdWinogradInput(inst: SimdInstance): typeof winogradInput {
  return (x, n0, m, C, H, W, padH, padW, TH, TW, V, pad) => {
    if (!inst.winoIn || !(x instanceof Float32Array) || !(V instanceof Float32Array)) {
      winogradInput(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
      return;
    }
    winogradInputPlanes(inst, x, n0, m, C, H, W, padH, padW, TH, TW, V, 0, m * C);
  };
}

/** simdWinogradInput's work on planes [q0, q1) of the m·C (plane q: image n0 + ⌊q / C⌋, channel q mod C); the instance has the SIMD transforms. */
function winogradInputPlanes(
  inst: SimdInstance, x: Float32Array, n0: number, m: number, C: number, H: number, W: number,
  padH: number, padW: number, TH: number, TW: number, V: Float32Array, q0: number, q1: number,
): void {
  const kernel = inst.winoIn!;
  const twq = Math.ceil(TW / 4), TWp = 4 * twq, Wp = 8 * twq + 2, Hp = 2 * TH + 2;
  const padF = Hp * Wp, planeF = TH * TWp, HW = H * W;
  const f = inst.reserve(padF + 16 * planeF);
  f.fill(0, 0, padF); // the border (and rows and columns past the image) stay zero
  const Timg = TH * TW, T = m * Timg, CT = C * T;
  const wn = Math.min(W, Wp - padW);
  for (let q = q0; q < q1; q++) {
    const j = Math.floor(q / C), c = q - j * C;
    const plane = (n0 + j) * C * HW + c * HW;
    for (let h = 0; h < H && h + padH < Hp; h++) copyRow(x, plane + h * W, f, (h + padH) * Wp + padW, wn);
    kernel(0, Wp, TH, twq, 4 * padF, 4 * planeF);
    const t0 = c * T + j * Timg;
    for (let xi = 0; xi < 16; xi++) {
      const src = padF + xi * planeF, dst = xi * CT + t0;
      if (TWp === TW) copyRow(f, src, V, dst, Timg);
      else for (let th = 0; th < TH; th++) copyRow(f, src + th * TWp, V, dst + th * TW, TW);
    }
  }
}

/**
 * Winograd's output transform on this thread's instance (simd-winograd.ts), under the
 * contract of winogradOutput (winograd.ts, the JavaScript transform, used for other
 * dtypes). Per output plane (image j, channel k): its tiles' 16 products are copied into
 * the instance's memory (tile rows padded to a multiple of 4), transformed, and the P rows
 * of Q outputs copied into y.
 */
export function simdWinogradOutput(inst: SimdInstance): typeof winogradOutput {
  return (M, n0, m, K, T, TH, TW, P, Q, y) => {
    if (!inst.winoOut || !(M instanceof Float32Array) || !(y instanceof Float32Array)) {
      winogradOutput(M, n0, m, K, T, TH, TW, P, Q, y);
      return;
    }
    winogradOutputPlanes(inst, M, n0, K, T, TH, TW, P, Q, y, 0, m * K);
  };
}

/** simdWinogradOutput's work on output planes [q0, q1) of the m·K (plane q: image n0 + ⌊q / K⌋, channel q mod K). */
function winogradOutputPlanes(
  inst: SimdInstance, M: Float32Array, n0: number, K: number, T: number, TH: number, TW: number,
  P: number, Q: number, y: Float32Array, q0: number, q1: number,
): void {
  const kernel = inst.winoOut!;
  const twq = Math.ceil(TW / 4), TWp = 4 * twq, planeF = TH * TWp, outW = 8 * twq;
  const outF = 16 * planeF;
  const f = inst.reserve(outF + 2 * TH * outW);
  if (TWp !== TW) f.fill(0, 0, outF); // the padding tiles: computed, never copied out
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  for (let q = q0; q < q1; q++) {
    const j = Math.floor(q / K), k = q - j * K;
    const t0 = k * T + j * Timg;
    for (let xi = 0; xi < 16; xi++) {
      const src = xi * KT + t0, dst = xi * planeF;
      if (TWp === TW) copyRow(M, src, f, dst, Timg);
      else for (let th = 0; th < TH; th++) copyRow(M, src + th * TW, f, dst + th * TWp, TW);
    }
    kernel(0, 4 * planeF, TH, twq, 4 * outF);
    const out = (n0 + j) * K * PQ + k * PQ;
    for (let p = 0; p < P; p++) copyRow(f, outF + p * outW, y, out + p * Q, Q);
  }
}

/**
 * The output gradient's transform of the Winograd weight gradient on this thread's
 * instance (simd-winograd.ts), under winogradGradOutput's contract (winograd.ts, the JavaScript
 * transform, used for other dtypes): per plane of dy, copied into a zero-padded plane of the instance's memory,
 * transformed four tiles at a time, the 16 planes copied into Ŷ[16, K, T].
 */
export function simdWinogradGradOutput(inst: SimdInstance): typeof winogradGradOutput {
  return (dy, n0, m, K, T, TH, TW, P, Q, Y) => {
    if (!inst.winoDy || !(dy instanceof Float32Array) || !(Y instanceof Float32Array)) {
      winogradGradOutput(dy, n0, m, K, T, TH, TW, P, Q, Y);
      return;
    }
    winogradGradOutputPlanes(inst, dy, n0, K, T, TH, TW, P, Q, Y, 0, m * K);
  };
}

/** simdWinogradGradOutput's work on planes [q0, q1) of dy's m·K (plane q: image n0 + ⌊q / K⌋, channel q mod K). */
function winogradGradOutputPlanes(
  inst: SimdInstance, dy: Float32Array, n0: number, K: number, T: number, TH: number, TW: number,
  P: number, Q: number, Y: Float32Array, q0: number, q1: number,
): void {
  const kernel = inst.winoDy!;
  const twq = Math.ceil(TW / 4), TWp = 4 * twq, wp = 8 * twq, planeF = TH * TWp;
  const padF = 2 * TH * wp;
  const f = inst.reserve(padF + 16 * planeF);
  f.fill(0, 0, padF); // rows and columns past P × Q stay zero
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  for (let q = q0; q < q1; q++) {
    const j = Math.floor(q / K), k = q - j * K;
    const plane = (n0 + j) * K * PQ + k * PQ;
    for (let p = 0; p < P; p++) copyRow(dy, plane + p * Q, f, p * wp, Q);
    kernel(0, wp, TH, twq, 4 * padF, 4 * planeF);
    const t0 = k * T + j * Timg;
    for (let xi = 0; xi < 16; xi++) {
      const src = padF + xi * planeF, dst = xi * KT + t0;
      if (TWp === TW) copyRow(f, src, Y, dst, Timg);
      else for (let th = 0; th < TH; th++) copyRow(f, src + th * TWp, Y, dst + th * TW, TW);
    }
  }
}
