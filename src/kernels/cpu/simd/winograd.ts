// Winograd F(2×2, 3×3) (Lavin & Gray, "Fast algorithms for convolutional neural networks",
// 2016) for 3×3 convolutions with stride 1 and dilation 1. Each 2×2 block ("tile") of the
// output is computed from the 4×4 input patch d under it as y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A,
// so for every one of the 16 positions ξ of the transformed 4×4 tile the channel sum is a
// matrix product M_ξ[K, T] = U_ξ[K, C] · V_ξ[C, T] (T tiles): 16 gemms of 2·K·C·T FLOPs,
// 2.25× fewer multiply-adds than im2col's K·9C·P·Q. The transforms are additions (and
// halvings for the weights) computed in float64 and stored in the context's storage; the
// fast backend (conv.ts) replaces the input and output ones by SIMD versions
// (simd-winograd.ts) and computes the filter transform below by ranges on its threads.
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]
// The input gradient of such a convolution is the same kind of convolution (of dy with the
// weights flipped in r, s and with C and K swapped, padding 2 − pad), so it goes through
// the same code (`flip` in winogradWeights).
import type { FloatArray } from '../../backend.js';
import type { gemm } from '../ref/gemm.js';

/**
 * What the Winograd routines compute with: a gemm, and the storage of the transformed
 * filters, inputs and products. The fast backend passes its float32 SIMD gemm, float32
 * storage and its SIMD transforms; a test may pass the reference gemm and float64 storage.
 */
export interface WinogradContext {
  gemm: typeof gemm;
  /** The 16 (or 36) gemms of one pass as one call (gemmBatch's contract); absent: gemm one by one. */
  gemms?: typeof gemmBatch;
  alloc(n: number): FloatArray;
  /** The input transform (winogradInput's contract); absent: the one below. */
  input?: typeof winogradInput;
  /** The output transform (winogradOutput's contract); absent: the one below. */
  output?: typeof winogradOutput;
  /** The output gradient's transform in the weight gradient (winogradGradOutput's contract); absent: the one below. */
  gradOutput?: typeof winogradGradOutput;
  /** The filter transform (winogradWeights' contract, U from this context's alloc); absent: the one below. */
  weights?: typeof winogradWeights;
  /** F(4×4, 3×3)'s filter transform (winograd43Weights' contract, winograd43.ts); absent: that one. */
  weights43?: typeof winogradWeights;
  /** F(4×4, 3×3)'s input, output and output-gradient transforms (winograd43Input's, winograd43Output's, winograd43GradOutput's contracts, winograd43.ts); absent: those. */
  input43?: typeof winogradInput;
  output43?: typeof winogradOutput;
  gradOutput43?: typeof winogradGradOutput;
  /** F(4×4, 3×3)'s weight gradient from the transformed domain (winograd43FilterGrad's contract); absent: that one. */
  filterGrad43?: (Gh: FloatArray, KC: number, dw: FloatArray) => void;
}

/**
 * `count` independent gemms of one shape, the i-th on A, B and C at offsets
 * aOffset + i·aStride, bOffset + i·bStride, cOffset + i·cStride (Winograd's products, one per
 * position ξ of the transformed tile): here one after the other with `gemm`; the fast
 * backend runs them as one job over its threads (index.ts).
 */
export function gemmBatch(
  g: typeof gemm, count: number, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, aStride: number, lda: number, B: FloatArray, bOffset: number, bStride: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, cStride: number, ldc: number,
): void {
  for (let i = 0; i < count; i++) g(transA, transB, M, N, K, alpha, A, aOffset + i * aStride, lda, B, bOffset + i * bStride, ldb, beta, C, cOffset + i * cStride, ldc);
}

/**
 * U[16, Ko, Ci] (position ξ = 4·i + j of the 4×4 transformed filter, row-major per ξ) =
 * G·g·Gᵀ for each 3×3 filter g of w[K, C, 3, 3]. flip = false: Ko = K, Ci = C, g = w[k, c];
 * flip = true (input gradient): Ko = C, Ci = K, g(r, s) = w[k, c, 2 − r, 2 − s] for output
 * channel c and input channel k.
 */
export function winogradWeights(w: FloatArray, K: number, C: number, flip: boolean, ctx: WinogradContext): FloatArray {
  const U = ctx.alloc(16 * K * C);
  winogradWeightsRange(w, K, C, flip, U, 0, K);
  return U;
}

/** winogradWeights' work for the filters of w's output channels k0 ≤ k < k1 only, into U (a range per thread: fast backend). */
export function winogradWeightsRange(w: FloatArray, K: number, C: number, flip: boolean, U: FloatArray, k0: number, k1: number): void {
  const KC = K * C;
  const g = new Float64Array(9), t = new Float64Array(12);
  for (let k = k0; k < k1; k++) {
    for (let c = 0; c < C; c++) {
      const src = (k * C + c) * 9;
      for (let i = 0; i < 9; i++) g[i] = w[src + (flip ? 8 - i : i)]!;
      // t[4, 3] = G · g
      for (let s = 0; s < 3; s++) {
        const g0 = g[s]!, g1 = g[3 + s]!, g2 = g[6 + s]!;
        t[s] = g0; t[3 + s] = 0.5 * (g0 + g1 + g2); t[6 + s] = 0.5 * (g0 - g1 + g2); t[9 + s] = g2;
      }
      const dst = flip ? c * K + k : k * C + c;
      // U = t · Gᵀ
      for (let i = 0; i < 4; i++) {
        const t0 = t[3 * i]!, t1 = t[3 * i + 1]!, t2 = t[3 * i + 2]!;
        const o = 4 * i * KC + dst;
        U[o] = t0; U[o + KC] = 0.5 * (t0 + t1 + t2); U[o + 2 * KC] = 0.5 * (t0 - t1 + t2); U[o + 3 * KC] = t2;
      }
    }
  }
}

/**
 * V_ξ[c, t] = (Bᵀ·d·B)_ξ for the 4×4 input patch d of every tile t of images n0 .. n0+m−1
 * (image j's tiles at columns j·TH·TW ..), V laid out [16, C, m·TH·TW]. pad: a zeroed
 * scratch plane of (2·TH + 2) × (2·TW + 2) (its border stays zero between calls).
 */
export function winogradInput(
  x: FloatArray, n0: number, m: number, C: number, H: number, W: number, padH: number, padW: number,
  TH: number, TW: number, V: FloatArray, pad: Float64Array,
): void {
  const Timg = TH * TW, T = m * Timg, CT = C * T, HW = H * W;
  const Hp = 2 * TH + 2, Wp = 2 * TW + 2;
  for (let j = 0; j < m; j++) {
    for (let c = 0; c < C; c++) {
      const plane = (n0 + j) * C * HW + c * HW;
      for (let h = 0; h < H; h++) {
        const ph = h + padH;
        if (ph >= Hp) break;
        const row = ph * Wp + padW, src = plane + h * W, wn = Math.min(W, Wp - padW);
        for (let w = 0; w < wn; w++) pad[row + w] = x[src + w]!;
      }
      let t = c * T + j * Timg;
      for (let th = 0; th < TH; th++) {
        for (let tw = 0; tw < TW; tw++, t++) {
          const o = 2 * th * Wp + 2 * tw, o1 = o + Wp, o2 = o1 + Wp, o3 = o2 + Wp;
          // rows of Bᵀ·d (4 columns each)
          const a0 = pad[o]! - pad[o2]!, a1 = pad[o + 1]! - pad[o2 + 1]!, a2 = pad[o + 2]! - pad[o2 + 2]!, a3 = pad[o + 3]! - pad[o2 + 3]!;
          const b0 = pad[o1]! + pad[o2]!, b1 = pad[o1 + 1]! + pad[o2 + 1]!, b2 = pad[o1 + 2]! + pad[o2 + 2]!, b3 = pad[o1 + 3]! + pad[o2 + 3]!;
          const c0 = pad[o2]! - pad[o1]!, c1 = pad[o2 + 1]! - pad[o1 + 1]!, c2 = pad[o2 + 2]! - pad[o1 + 2]!, c3 = pad[o2 + 3]! - pad[o1 + 3]!;
          const d0 = pad[o1]! - pad[o3]!, d1 = pad[o1 + 1]! - pad[o3 + 1]!, d2 = pad[o1 + 2]! - pad[o3 + 2]!, d3 = pad[o1 + 3]! - pad[o3 + 3]!;
          // · B (the same combinations across columns)
          V[t] = a0 - a2; V[t + CT] = a1 + a2; V[t + 2 * CT] = a2 - a1; V[t + 3 * CT] = a1 - a3;
          V[t + 4 * CT] = b0 - b2; V[t + 5 * CT] = b1 + b2; V[t + 6 * CT] = b2 - b1; V[t + 7 * CT] = b1 - b3;
          V[t + 8 * CT] = c0 - c2; V[t + 9 * CT] = c1 + c2; V[t + 10 * CT] = c2 - c1; V[t + 11 * CT] = c1 - c3;
          V[t + 12 * CT] = d0 - d2; V[t + 13 * CT] = d1 + d2; V[t + 14 * CT] = d2 - d1; V[t + 15 * CT] = d1 - d3;
        }
      }
    }
  }
}

/** Images per Winograd chunk: the transformed input of a chunk holds up to this many values (1M: 8 MB). */
const WINOGRAD_BUDGET = 1 << 20;

/**
 * y[N, K, P, Q] = 3×3 cross-correlation (stride 1, dilation 1, padding padH, padW) of
 * x[N, C, H, W] with the filters U = winogradWeights(...) ([16, K, C]); y is overwritten.
 * Images go in chunks whose tiles lie side by side in the 16 gemms (T = images × tiles).
 */
export function winogradConv3x3(
  x: FloatArray, N: number, C: number, H: number, W: number, U: FloatArray, K: number,
  padH: number, padW: number, P: number, Q: number, y: FloatArray, ctx: WinogradContext,
  /** Called with each chunk of images [n0, n0 + m) once its planes are written (the caller's epilogue: bias, ReLU). */
  written?: (n0: number, m: number) => void,
): void {
  const TH = (P + 1) >> 1, TW = (Q + 1) >> 1, Timg = TH * TW;
  if (N === 0 || P <= 0 || Q <= 0) return;
  const nb = Math.max(1, Math.min(N, Math.floor(WINOGRAD_BUDGET / Math.max(1, 16 * Math.max(C, K) * Timg))));
  const Tmax = nb * Timg;
  const V = ctx.alloc(16 * C * Tmax), M = ctx.alloc(16 * K * Tmax);
  // One input plane, zero-padded so that every tile's 4×4 patch lies inside it.
  const Hp = 2 * TH + 2, Wp = 2 * TW + 2;
  const pad = new Float64Array(Hp * Wp);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0), T = m * Timg, CT = C * T, KT = K * T;
    (ctx.input ?? winogradInput)(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
    (ctx.gemms ?? gemmBatch)(ctx.gemm, 16, false, false, K, T, C, 1, U, 0, K * C, C, V, 0, CT, T, 0, M, 0, KT, T);
    // y = Aᵀ·M·A per tile, clipped at the bottom and right edges
    (ctx.output ?? winogradOutput)(M, n0, m, K, T, TH, TW, P, Q, y);
    written?.(n0, m);
  }
}

/**
 * y[n0 + j, k] (j < m, k < K: planes of P × Q) = Aᵀ·M_t·A for every tile t, clipped at the
 * bottom and right edges, from the products M laid out [16, K, T] (image j's tiles at
 * columns j·TH·TW ..).
 */
export function winogradOutput(M: FloatArray, n0: number, m: number, K: number, T: number, TH: number, TW: number, P: number, Q: number, y: FloatArray): void {
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < K; k++) {
      const out = (n0 + j) * K * PQ + k * PQ;
      let t = k * T + j * Timg;
      for (let th = 0; th < TH; th++) {
        const p = 2 * th, r0 = out + p * Q, r1 = r0 + Q, two = p + 1 < P;
        for (let tw = 0; tw < TW; tw++, t++) {
          const m0 = M[t]!, m1 = M[t + KT]!, m2 = M[t + 2 * KT]!, m3 = M[t + 3 * KT]!;
          const m4 = M[t + 4 * KT]!, m5 = M[t + 5 * KT]!, m6 = M[t + 6 * KT]!, m7 = M[t + 7 * KT]!;
          const m8 = M[t + 8 * KT]!, m9 = M[t + 9 * KT]!, m10 = M[t + 10 * KT]!, m11 = M[t + 11 * KT]!;
          const m12 = M[t + 12 * KT]!, m13 = M[t + 13 * KT]!, m14 = M[t + 14 * KT]!, m15 = M[t + 15 * KT]!;
          // rows of Aᵀ·M
          const s0 = m0 + m4 + m8, s1 = m1 + m5 + m9, s2 = m2 + m6 + m10, s3 = m3 + m7 + m11;
          const u0 = m4 - m8 - m12, u1 = m5 - m9 - m13, u2 = m6 - m10 - m14, u3 = m7 - m11 - m15;
          const q = 2 * tw;
          y[r0 + q] = s0 + s1 + s2;
          if (two) y[r1 + q] = u0 + u1 + u2;
          if (q + 1 < Q) {
            y[r0 + q + 1] = s1 - s2 - s3;
            if (two) y[r1 + q + 1] = u1 - u2 - u3;
          }
        }
      }
    }
  }
}

/**
 * dw[K, C, 3, 3] += the weight gradient of y = winogradConv3x3(x, w) (stride 1, padding
 * padH, padW) for the output gradient dy[N, K, P, Q]: the adjoint of the Winograd forward,
 * dw = Gᵀ·[Σ_t (A·dy_t·Aᵀ) ⊙ (Bᵀ·d_t·B)]·G, where dy_t is the 2×2 block of dy on tile t
 * (zero past the edges). For each ξ the sum over tiles is one gemm with op(B) transposed:
 * Ĝ_ξ[K, C] += Ŷ_ξ[K, T] · V_ξ[C, T]ᵀ.
 */
export function winogradWeightGrad3x3(
  x: FloatArray, N: number, C: number, H: number, W: number, dy: FloatArray, K: number,
  padH: number, padW: number, P: number, Q: number, dw: FloatArray, ctx: WinogradContext,
): void {
  const TH = (P + 1) >> 1, TW = (Q + 1) >> 1, Timg = TH * TW;
  if (N === 0 || P <= 0 || Q <= 0) return;
  const nb = Math.max(1, Math.min(N, Math.floor(WINOGRAD_BUDGET / Math.max(1, 16 * Math.max(C, K) * Timg))));
  const Tmax = nb * Timg, KC = K * C;
  const V = ctx.alloc(16 * C * Tmax), Y = ctx.alloc(16 * K * Tmax), Gh = ctx.alloc(16 * KC);
  const pad = new Float64Array((2 * TH + 2) * (2 * TW + 2));
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0), T = m * Timg, KT = K * T;
    (ctx.input ?? winogradInput)(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
    // Ŷ_ξ[k, t] = (A·e·Aᵀ)_ξ for the 2×2 block e of dy on tile t
    (ctx.gradOutput ?? winogradGradOutput)(dy, n0, m, K, T, TH, TW, P, Q, Y);
    const CT = C * T;
    (ctx.gemms ?? gemmBatch)(ctx.gemm, 16, false, true, K, C, T, 1, Y, 0, KT, T, V, 0, CT, T, 1, Gh, 0, KC, C);
  }
  // dw[k, c] += Gᵀ·Ĝ·G, Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]
  for (let kc = 0; kc < KC; kc++) {
    const z = (i: number, j: number) => Gh[(4 * i + j) * KC + kc]!;
    const o = kc * 9;
    for (let i = 0; i < 3; i++) {
      // row i of Gᵀ·Ĝ (4 columns)
      let r0: number, r1: number, r2: number, r3: number;
      if (i === 0) { r0 = z(0, 0) + 0.5 * (z(1, 0) + z(2, 0)); r1 = z(0, 1) + 0.5 * (z(1, 1) + z(2, 1)); r2 = z(0, 2) + 0.5 * (z(1, 2) + z(2, 2)); r3 = z(0, 3) + 0.5 * (z(1, 3) + z(2, 3)); }
      else if (i === 1) { r0 = 0.5 * (z(1, 0) - z(2, 0)); r1 = 0.5 * (z(1, 1) - z(2, 1)); r2 = 0.5 * (z(1, 2) - z(2, 2)); r3 = 0.5 * (z(1, 3) - z(2, 3)); }
      else { r0 = 0.5 * (z(1, 0) + z(2, 0)) + z(3, 0); r1 = 0.5 * (z(1, 1) + z(2, 1)) + z(3, 1); r2 = 0.5 * (z(1, 2) + z(2, 2)) + z(3, 2); r3 = 0.5 * (z(1, 3) + z(2, 3)) + z(3, 3); }
      dw[o + 3 * i] += r0 + 0.5 * (r1 + r2);
      dw[o + 3 * i + 1] += 0.5 * (r1 - r2);
      dw[o + 3 * i + 2] += 0.5 * (r1 + r2) + r3;
    }
  }
}

/**
 * Ŷ_ξ[k, t] = (A·e·Aᵀ)_ξ for the 2×2 block e of dy[n0 + j, k] (P × Q, zero past the edges)
 * on every tile t of images n0 .. n0+m−1 (image j's tiles at columns j·TH·TW ..), Ŷ laid out
 * [16, K, T]: the output gradient's transform in the Winograd weight gradient.
 */
export function winogradGradOutput(dy: FloatArray, n0: number, m: number, K: number, T: number, TH: number, TW: number, P: number, Q: number, Y: FloatArray): void {
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < K; k++) {
      const src = (n0 + j) * K * PQ + k * PQ;
      let t = k * T + j * Timg;
      for (let th = 0; th < TH; th++) {
        const p = 2 * th, r0 = src + p * Q, r1 = r0 + Q, two = p + 1 < P;
        for (let tw = 0; tw < TW; tw++, t++) {
          const q = 2 * tw, q1 = q + 1 < Q;
          const e00 = dy[r0 + q]!, e01 = q1 ? dy[r0 + q + 1]! : 0;
          const e10 = two ? dy[r1 + q]! : 0, e11 = two && q1 ? dy[r1 + q + 1]! : 0;
          // rows of A·e: e0, e0 + e1, e0 − e1, −e1 (e0, e1 the rows of e); then the same across columns
          const a0 = e00, a1 = e01, b0 = e00 + e10, b1 = e01 + e11, c0 = e00 - e10, c1 = e01 - e11, d0 = -e10, d1 = -e11;
          Y[t] = a0; Y[t + KT] = a0 + a1; Y[t + 2 * KT] = a0 - a1; Y[t + 3 * KT] = -a1;
          Y[t + 4 * KT] = b0; Y[t + 5 * KT] = b0 + b1; Y[t + 6 * KT] = b0 - b1; Y[t + 7 * KT] = -b1;
          Y[t + 8 * KT] = c0; Y[t + 9 * KT] = c0 + c1; Y[t + 10 * KT] = c0 - c1; Y[t + 11 * KT] = -c1;
          Y[t + 12 * KT] = d0; Y[t + 13 * KT] = d0 + d1; Y[t + 14 * KT] = d0 - d1; Y[t + 15 * KT] = -d1;
        }
      }
    }
  }
}
