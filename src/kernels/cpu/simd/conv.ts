// The fast backend's 2-D convolution (cross-correlation): im2col + gemm over chunks of
// images, or Winograd F(2×2, 3×3), run with the gemm, scratch and transforms of a
// ConvContext (index.ts: the SIMD gemm over the threads; tasks.ts: one thread's own).
// The reference computes the same thing directly (src/kernels/cpu/ref/conv.ts).
// Shapes: x [N, C, H, W], w [K, C, R, S], b [K], y [N, K, P, Q].
//
// Images go through the gemms in chunks of nb: cols = im2col of nb images side by side,
// [C·R·S, nb·P·Q] (image j in columns j·P·Q ..), and per chunk
//   forward:     Y    = W · cols                      [K, C·R·S]·[C·R·S, nb·P·Q], scattered to y[n] (NCHW)
//   backward:    dW  += dY · colsᵀ                    [K, nb·P·Q]·[nb·P·Q, C·R·S], dY = dy of the chunk as [K, nb·P·Q]
//                dx[n] = col2im(Wᵀ · dY), per image     [C·R·S, K]·[K, nb·P·Q]
//                db  += Σ_{N,P,Q} dy
// nb is as large as keeps cols within a budget (convColumnBudget values, 128K by default,
// 512 KB in float32: about a core's L2 cache): small feature maps (the demo's 8-64
// channel convs on 4² and 2² images, where one image is a gemm of N = 16 or 4 columns)
// then run as a few wider gemms instead of many tiny ones whose packing and call overhead
// cost more than their arithmetic. A larger budget is slower: the columns of the chunk no
// longer stay in cache between im2col and the gemm (bench/README.md has the figures).
// An image whose columns exceed the budget alone (VGG at 56² and up) goes one image per
// gemm, writing the gemm's output straight into y (nb = 1 needs no scatter or gather).
// 3×3 convolutions with stride 1 (VGG's) take another route: Winograd F(2×2, 3×3)
// (winograd.ts), 16 gemms of K × C × tiles, 2.25× fewer multiply-adds than
// im2col + gemm and no 9× column buffer. The input gradient is the same kind of
// convolution, of dy with the filters flipped and transposed (padding 2 − pad), so no
// col2im; the weight gradient is the adjoint of the Winograd forward (16 gemms
// Ŷ_ξ · V_ξᵀ). Winograd F(4×4, 3×3) (winograd43.ts: 36 gemms, 4× fewer multiply-adds,
// more float32 error) takes the same three routes on the layers where its error stays
// within the stated bound (winogradTile), or where setWinogradTile asks for it.
import type { FloatArray, WindowGeometry } from '../../backend.js';
import { ValueError } from '../../../util/errors.js';
import { biasBackward } from '../ref/bias.js';
import { applyEpilogue, type ConvEpilogue } from './epilogue.js';
import type { gemm } from '../ref/gemm.js';
import { col2im, im2col } from './im2col.js';
import { winogradConv3x3, winogradWeightGrad3x3, winogradWeights, type WinogradContext } from './winograd.js';
import { winograd43Conv3x3, winograd43WeightGrad3x3, winograd43Weights } from './winograd43.js';

const DEFAULT_COLUMN_BUDGET = 1 << 17;
let convColumnBudget = DEFAULT_COLUMN_BUDGET;

/**
 * Sets how many values the im2col matrix of one chunk of images may hold (default 128K:
 * 512 KB in float32); images are batched into one gemm while their columns fit. 0 (or any
 * budget below one image) means one image per gemm. Returns the previous budget; no
 * argument restores the default. For benchmarks and tests.
 */
export function setConvColumnBudget(values: number = DEFAULT_COLUMN_BUDGET): number {
  if (!Number.isInteger(values) || values < 0) throw new ValueError(`conv2d: the column budget must be a non-negative integer, got ${values}`);
  const prev = convColumnBudget;
  convColumnBudget = values;
  return prev;
}

/** Images per gemm: as many as fit the column budget, at least 1, at most N. */
function chunkSize(N: number, CRS: number, PQ: number): number {
  return Math.max(1, Math.min(N, Math.floor(convColumnBudget / Math.max(1, CRS * PQ))));
}

let winogradEnabled = true;

/** Turns the Winograd path for 3×3 stride-1 convolutions on or off (for tests and benchmarks); returns the previous setting. */
export function setConvWinograd(on = true): boolean {
  const prev = winogradEnabled;
  winogradEnabled = on;
  return prev;
}

/** Outputs below this many pixels per image keep im2col + gemm (16 gemms on a few tiles cost more in overhead than they save). */
const WINOGRAD_MIN_PQ = 64;

/**
 * Whether the convolution (forward and both gradients) goes through Winograd F(2×2, 3×3) (winograd.ts): a 3×3
 * filter, stride 1, no dilation, padding ≤ 2 (so that the input gradient, a convolution
 * with padding 2 − pad, qualifies too), and outputs of at least WINOGRAD_MIN_PQ pixels.
 */
function useWinograd(g: WindowGeometry): boolean {
  return winogradEnabled && g.R === 3 && g.S === 3 && g.strideH === 1 && g.strideW === 1 && g.dilH === 1 && g.dilW === 1
    && g.padH <= 2 && g.padW <= 2 && g.P * g.Q >= WINOGRAD_MIN_PQ;
}

/**
 * Winograd's output tile: 'auto' (per layer: winogradTile; the default), 2 (F(2×2, 3×3) for
 * every eligible layer) or 4 (F(4×4, 3×3) for all). Both tiles' transforms are WebAssembly
 * SIMD (simd-winograd.ts, simd-winograd43.ts), and with them F(4×4, 3×3)'s 36 gemms beat
 * F(2×2, 3×3)'s 16 on every VGG-16 layer shape that 'auto' gives it (bench/README.md); the
 * price is float32 error, hence the per-layer bound. setWinogradTile, or
 * TL_WINOGRAD_TILE=auto|2|4 in the environment, chooses otherwise.
 */
export type WinogradTileMode = 'auto' | 2 | 4;
const DEFAULT_TILE: WinogradTileMode = tileFromEnv();
let tileMode: WinogradTileMode = DEFAULT_TILE;

function tileFromEnv(): WinogradTileMode {
  const v = typeof process === 'object' ? process.env?.TL_WINOGRAD_TILE : undefined;
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === '2') return 2;
  if (v === '4') return 4;
  throw new ValueError(`TL_WINOGRAD_TILE must be auto, 2 or 4, got '${v}'`);
}

/** Forces Winograd's output tile (see WinogradTileMode); no argument restores the default. Returns the previous mode. For tests and benchmarks. */
export function setWinogradTile(mode: WinogradTileMode = DEFAULT_TILE): WinogradTileMode {
  const prev = tileMode;
  tileMode = mode;
  return prev;
}

/** The current Winograd tile mode (what setWinogradTile set). */
export function winogradTileMode(): WinogradTileMode {
  return tileMode;
}

/**
 * Winograd's output tile for geometry g and K filters (0: no Winograd), the same for the
 * forward and both gradients. In 'auto': F(4×4, 3×3) where its float32 error stays well
 * within the bound bench/README.md states (the reduction length grows the error; 512
 * channels come closest to the bound, and their 36·K·C transformed filters cost the most
 * memory) and output rows are wide enough to fill its 4×4 tiles; F(2×2, 3×3) otherwise. A function of Q, C and K only besides useWinograd, so a band of
 * output rows (index.ts) chooses as the whole image does.
 */
function winogradTile(g: WindowGeometry, K: number): 0 | 2 | 4 {
  if (!useWinograd(g)) return 0;
  if (tileMode !== 'auto') return tileMode;
  return g.Q >= F43_MIN_Q && Math.max(g.C, K) <= F43_MAX_CHANNELS ? 4 : 2;
}

/** F(4×4, 3×3) needs output rows at least this wide (narrower maps waste most of a 4×4 tile). */
const F43_MIN_Q = 16;
/** F(4×4, 3×3) up to this many input or output channels (VGG-16's conv1 to conv3); conv4 and conv5 (512) take F(2×2, 3×3). */
const F43_MAX_CHANNELS = 256;

/** The algorithm this backend's convolution runs for geometry g and K filters (forward and both gradients alike), as the profile names it. */
export function convAlgorithm(g: WindowGeometry, K: number): string {
  const tile = winogradTile(g, K);
  return tile === 4 ? 'Winograd F(4,3)' : tile === 2 ? 'Winograd F(2,3)' : 'im2col + gemm';
}

/**
 * What a convolution computes with: the gemm and scratch storage of the im2col path, and
 * the Winograd context. The fast backend passes its SIMD gemm and float32 scratch.
 */
export interface ConvContext {
  gemm: typeof gemm;
  alloc(dtype: 'float32' | 'float64', n: number): FloatArray;
  winograd: WinogradContext;
}

/**
 * w's filters transformed for the Winograd tile this backend runs for geometry g and K
 * filters ([16 or 36, K, C]; flipped and transposed for the input gradient), or null where
 * it runs im2col. The threads of a convolution split over images or bands share the
 * filters: the main thread transforms them once and the tasks take them (withFilters).
 */
export function winogradFilters(w: FloatArray, K: number, g: WindowGeometry, flip: boolean, ctx: ConvContext): FloatArray | null {
  const tile = winogradTile(g, K);
  if (tile === 4) return (ctx.winograd.weights43 ?? winograd43Weights)(w, K, g.C, flip, ctx.winograd);
  if (tile === 2) return (ctx.winograd.weights ?? winogradWeights)(w, K, g.C, flip, ctx.winograd);
  return null;
}

/** ctx with the Winograd filters already transformed (winogradFilters' U for the pass about to run), so that they are not transformed again. */
export function withFilters(ctx: ConvContext, U: FloatArray | null): ConvContext {
  if (!U) return ctx;
  const given = (): FloatArray => U;
  return { ...ctx, winograd: { ...ctx.winograd, weights: given, weights43: given } };
}

/**
 * y[N, K, P, Q] = conv(x, w) (+ b), then max(0, ·) when relu. The bias and the ReLU are the
 * epilogue of each chunk of images (./epilogue.ts): applied as soon as the chunk's gemm or
 * Winograd output transform has written it.
 */
export function conv2dForward(x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry, y: FloatArray, ctx: ConvContext, relu = false): void {
  const { gemm } = ctx, allocate = ctx.alloc;
  const tile = winogradTile(g, K);
  const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W, KPQ = K * PQ;
  const epi: ConvEpilogue = { b, relu };
  const done = (n0: number, m: number): void => applyEpilogue(y, n0, n0 + m, K, PQ, epi);
  if (tile === 4) {
    winograd43Conv3x3(x, N, g.C, g.H, g.W, (ctx.winograd.weights43 ?? winograd43Weights)(w, K, g.C, false, ctx.winograd), K, g.padH, g.padW, g.P, g.Q, y, ctx.winograd, done);
    return;
  }
  if (tile === 2) {
    winogradConv3x3(x, N, g.C, g.H, g.W, (ctx.winograd.weights ?? winogradWeights)(w, K, g.C, false, ctx.winograd), K, g.padH, g.padW, g.P, g.Q, y, ctx.winograd, done);
    return;
  }
  const dtype = x instanceof Float64Array ? 'float64' : 'float32';
  const nb = chunkSize(N, CRS, PQ);
  const cols = allocate(dtype, CRS * PQ * nb);
  const yc = nb > 1 ? allocate(dtype, K * PQ * nb) : null;
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0);
    if (m === 1) {
      im2col(x, n0 * CHW, g, cols);
      gemm(false, false, K, PQ, CRS, 1, w, 0, CRS, cols, 0, PQ, 0, y, n0 * KPQ, PQ);
      done(n0, 1);
      continue;
    }
    const ld = m * PQ;
    for (let j = 0; j < m; j++) im2col(x, (n0 + j) * CHW, g, cols, j * PQ, ld);
    gemm(false, false, K, ld, CRS, 1, w, 0, CRS, cols, 0, ld, 0, yc!, 0, ld);
    // yc[k, j·PQ + i] → y[n0 + j, k, i]
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < K; k++) {
        const src = k * ld + j * PQ;
        y.set(yc!.subarray(src, src + PQ), (n0 + j) * KPQ + k * PQ);
      }
    }
    done(n0, m);
  }
}

/**
 * Gradients of a convolution: any of dx, dw, db may be null (not wanted). dw and db are
 * accumulated (+=) over the batch; dx is overwritten.
 */
export function conv2dBackward(
  x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray,
  dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null, ctx: ConvContext,
): void {
  const { gemm } = ctx, allocate = ctx.alloc;
  const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W, KPQ = K * PQ;
  const dtype = x instanceof Float64Array ? 'float64' : 'float32';
  // Winograd: dx = the 3×3 convolution of dy with the flipped, transposed filters.
  const tile = winogradTile(g, K);
  if (dx && tile === 4) {
    winograd43Conv3x3(dy, N, K, g.P, g.Q, (ctx.winograd.weights43 ?? winograd43Weights)(w, K, g.C, true, ctx.winograd), g.C, 2 - g.padH, 2 - g.padW, g.H, g.W, dx, ctx.winograd);
    dx = null;
  }
  if (dx && tile === 2) {
    winogradConv3x3(dy, N, K, g.P, g.Q, (ctx.winograd.weights ?? winogradWeights)(w, K, g.C, true, ctx.winograd), g.C, 2 - g.padH, 2 - g.padW, g.H, g.W, dx, ctx.winograd);
    dx = null;
  }
  if (dw && tile !== 0) {
    (tile === 4 ? winograd43WeightGrad3x3 : winogradWeightGrad3x3)(x, N, g.C, g.H, g.W, dy, K, g.padH, g.padW, g.P, g.Q, dw, ctx.winograd);
    dw = null;
  }
  if (dx) dx.fill(0);
  if (dw || dx) {
    const nb = chunkSize(N, CRS, PQ);
    const cols = allocate(dtype, CRS * PQ * nb);
    const dyc = nb > 1 ? allocate(dtype, K * PQ * nb) : null;
    for (let n0 = 0; n0 < N; n0 += nb) {
      const m = Math.min(nb, N - n0);
      const ld = m * PQ;
      // dY of the chunk as [K, m·PQ]: dy itself for one image, else gathered from [m, K, PQ].
      let dY = dy, dYOff = n0 * KPQ;
      if (m > 1) {
        for (let j = 0; j < m; j++) {
          for (let k = 0; k < K; k++) {
            const src = (n0 + j) * KPQ + k * PQ;
            dyc!.set(dy.subarray(src, src + PQ), k * ld + j * PQ);
          }
        }
        dY = dyc!;
        dYOff = 0;
      }
      if (dw) {
        for (let j = 0; j < m; j++) im2col(x, (n0 + j) * CHW, g, cols, j * PQ, ld);
        gemm(false, true, K, CRS, ld, 1, dY, dYOff, ld, cols, 0, ld, 1, dw, 0, CRS);
      }
      if (dx) {
        gemm(true, false, CRS, ld, K, 1, w, 0, CRS, dY, dYOff, ld, 0, cols, 0, ld);
        for (let j = 0; j < m; j++) col2im(cols, g, dx, (n0 + j) * CHW, j * PQ, ld);
      }
    }
  }
  if (db) biasBackward(dy, N, K, PQ, db, true);
}
