// Winograd F(4×4, 3×3) (Lavin & Gray 2016, interpolation points 0, ±1, ±2, ∞): each 4×4
// output tile from the 6×6 input patch d under it, y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A, so per
// position ξ of the 6×6 transformed tile one gemm M_ξ[K, T] = U_ξ[K, C] · V_ξ[C, T]: 36
// gemms of 2·K·C·T FLOPs for 16 outputs a tile, 4× fewer multiply-adds than im2col's
// (F(2×2, 3×3), winograd.ts: 2.25×). The price is float32 error: the transforms' entries
// reach 8 and 1/24, so a product's rounding error is amplified more than in F(2×2, 3×3)
// (bench/README.md has the error measured on VGG-16's layers; conv.ts chooses per layer).
// Same contracts and layouts as winograd.ts with 36 in place of 16. The transforms here are
// the plain readable ones, computed in float64 and rounded once into the context's storage;
// the fast backend replaces the input, output and output-gradient ones by SIMD versions
// (simd-winograd43.ts, float32, tested against these) and runs the filter transform below
// by ranges on its threads.
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
import type { FloatArray } from '../../backend.js';
import { gemmBatch, type WinogradContext } from './winograd.js';

/** Bᵀ·v for a 6-vector v read at a[o + i·s], written to b[p + i·t]. */
function bt(a: ArrayLike<number>, o: number, s: number, b: Float64Array, p: number, t: number): void {
  const d0 = a[o]!, d1 = a[o + s]!, d2 = a[o + 2 * s]!, d3 = a[o + 3 * s]!, d4 = a[o + 4 * s]!, d5 = a[o + 5 * s]!;
  b[p] = 4 * d0 - 5 * d2 + d4;
  b[p + t] = d3 + d4 - 4 * (d1 + d2);
  b[p + 2 * t] = d4 - d3 + 4 * (d1 - d2);
  b[p + 3 * t] = d4 - d2 + 2 * (d3 - d1);
  b[p + 4 * t] = d4 - d2 + 2 * (d1 - d3);
  b[p + 5 * t] = 4 * d1 - 5 * d3 + d5;
}

/** G's and Gᵀ's fractions as multipliers. */
const R6 = 1 / 6, R12 = 1 / 12, R24 = 1 / 24;

/** U[36, Ko, Ci] = G·g·Gᵀ per 3×3 filter, flip as winogradWeights (winograd.ts). */
export function winograd43Weights(w: FloatArray, K: number, C: number, flip: boolean, ctx: WinogradContext): FloatArray {
  const U = ctx.alloc(36 * K * C);
  winograd43WeightsRange(w, K, C, flip, U, 0, K);
  return U;
}

/**
 * Filters per block of the filter transforms: U's 36 planes lie K·C values apart (for
 * VGG's layers a multiple of 4 KiB, so one filter's 36 stores would all fall in the
 * same cache set and evict each other), so a block of filters with consecutive
 * destinations is transformed into a local buffer, then written plane by plane.
 */
const BLOCK = 32;

/** winograd43Weights' work for output channels k0 ≤ k < k1 of w only (a range per thread). */
export function winograd43WeightsRange(w: FloatArray, K: number, C: number, flip: boolean, U: FloatArray, k0: number, k1: number): void {
  const KC = K * C;
  const g = new Float64Array(9), t = new Float64Array(18), u = new Float64Array(36 * BLOCK);
  // G·x = [x0/4, −(x0 + x1 + x2)/6, −(x0 − x1 + x2)/6, x0/24 + x1/12 + x2/6, x0/24 − x1/12 + x2/6, x2],
  // by reciprocals (a division costs several multiplications' time, and this runs per call)
  const gv = (x0: number, x1: number, x2: number, out: Float64Array, o: number, s: number) => {
    const e = x0 + x2, f = x0 * R24 + x2 * R6, h = x1 * R12;
    out[o] = 0.25 * x0;
    out[o + s] = -(e + x1) * R6;
    out[o + 2 * s] = (x1 - e) * R6;
    out[o + 3 * s] = f + h;
    out[o + 4 * s] = f - h;
    out[o + 5 * s] = x2;
  };
  /** u[ξ·BLOCK + b] = (G·g·Gᵀ)_ξ for the filter w[k, c]. */
  const filter = (k: number, c: number, b: number) => {
    const src = (k * C + c) * 9;
    for (let i = 0; i < 9; i++) g[i] = w[src + (flip ? 8 - i : i)]!;
    for (let s = 0; s < 3; s++) gv(g[s]!, g[3 + s]!, g[6 + s]!, t, s, 3); // t[6, 3] = G·g, column by column
    for (let i = 0; i < 6; i++) gv(t[3 * i]!, t[3 * i + 1]!, t[3 * i + 2]!, u, 6 * i * BLOCK + b, BLOCK); // t·Gᵀ, row by row
  };
  /** U[ξ, dst .. dst + n) = u[ξ, 0 .. n). */
  const flush = (dst: number, n: number) => {
    for (let xi = 0; xi < 36; xi++) {
      const o = xi * KC + dst, p = xi * BLOCK;
      for (let b = 0; b < n; b++) U[o + b] = u[p + b]!;
    }
  };
  // consecutive destinations: (k, c .. c + n) as they are; flipped, U[ξ, c, k] holds w[k, c], so (k .. k + n, c)
  if (!flip) {
    for (let k = k0; k < k1; k++) {
      for (let c0 = 0; c0 < C; c0 += BLOCK) {
        const n = Math.min(BLOCK, C - c0);
        for (let b = 0; b < n; b++) filter(k, c0 + b, b);
        flush(k * C + c0, n);
      }
    }
  } else {
    for (let c = 0; c < C; c++) {
      for (let ks = k0; ks < k1; ks += BLOCK) {
        const n = Math.min(BLOCK, k1 - ks);
        for (let b = 0; b < n; b++) filter(ks + b, c, b);
        flush(c * K + ks, n);
      }
    }
  }
}

/**
 * V_ξ[c, t] = (Bᵀ·d·B)_ξ for the 6×6 patch d of every tile t of images n0 .. n0+m−1
 * (image j's tiles at columns j·TH·TW ..), V laid out [36, C, m·TH·TW]; pad: a zeroed
 * plane of (4·TH + 2) × (4·TW + 2).
 */
export function winograd43Input(
  x: FloatArray, n0: number, m: number, C: number, H: number, W: number, padH: number, padW: number,
  TH: number, TW: number, V: FloatArray, pad: Float64Array,
): void {
  const Timg = TH * TW, T = m * Timg, CT = C * T, HW = H * W;
  const Hp = 4 * TH + 2, Wp = 4 * TW + 2;
  const r = new Float64Array(36), v = new Float64Array(36);
  for (let j = 0; j < m; j++) {
    for (let c = 0; c < C; c++) {
      const plane = (n0 + j) * C * HW + c * HW;
      for (let h = 0; h < H; h++) {
        const ph = h + padH;
        if (ph >= Hp) break;
        const rowStart = ph * Wp + padW, src = plane + h * W, wn = Math.min(W, Wp - padW);
        for (let q = 0; q < wn; q++) pad[rowStart + q] = x[src + q]!;
      }
      let t = c * T + j * Timg;
      for (let th = 0; th < TH; th++) {
        for (let tw = 0; tw < TW; tw++, t++) {
          const o = 4 * th * Wp + 4 * tw;
          // r = Bᵀ·d (per column q: the 6 rows of the patch), then v = r·B (per row i)
          for (let q = 0; q < 6; q++) bt(pad, o + q, Wp, r, q, 6);
          for (let i = 0; i < 6; i++) bt(r, 6 * i, 1, v, 6 * i, 1);
          for (let xi = 0; xi < 36; xi++) V[t + xi * CT] = v[xi]!;
        }
      }
    }
  }
}

/** y[n0 + j, k] = Aᵀ·M_t·A for every tile t (clipped at the bottom and right edges), from M laid out [36, K, T]. */
export function winograd43Output(M: FloatArray, n0: number, m: number, K: number, T: number, TH: number, TW: number, P: number, Q: number, y: FloatArray): void {
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  const s = new Float64Array(24);
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < K; k++) {
      const out = (n0 + j) * K * PQ + k * PQ;
      let t = k * T + j * Timg;
      for (let th = 0; th < TH; th++) {
        for (let tw = 0; tw < TW; tw++, t++) {
          // s[4, 6] = Aᵀ·M (per column q)
          for (let q = 0; q < 6; q++) {
            const m0 = M[t + q * KT]!, m1 = M[t + (6 + q) * KT]!, m2 = M[t + (12 + q) * KT]!;
            const m3 = M[t + (18 + q) * KT]!, m4 = M[t + (24 + q) * KT]!, m5 = M[t + (30 + q) * KT]!;
            const a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
            s[q] = m0 + a + c; s[6 + q] = b + 2 * d; s[12 + q] = a + 4 * c; s[18 + q] = b + 8 * d + m5;
          }
          // y = s·A (per row p), clipped
          for (let p = 0; p < 4; p++) {
            const row = 4 * th + p;
            if (row >= P) break;
            const o = 6 * p, m0 = s[o]!, m1 = s[o + 1]!, m2 = s[o + 2]!, m3 = s[o + 3]!, m4 = s[o + 4]!, m5 = s[o + 5]!;
            const a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
            const col = 4 * tw, base = out + row * Q + col, n = Math.min(4, Q - col);
            y[base] = m0 + a + c;
            if (n > 1) y[base + 1] = b + 2 * d;
            if (n > 2) y[base + 2] = a + 4 * c;
            if (n > 3) y[base + 3] = b + 8 * d + m5;
          }
        }
      }
    }
  }
}

/** A·e for a 4-vector e read at a[o + i·s], written to b[p + i·t] (6 values). */
function av(a: ArrayLike<number>, o: number, s: number, b: Float64Array, p: number, t: number): void {
  const e0 = a[o]!, e1 = a[o + s]!, e2 = a[o + 2 * s]!, e3 = a[o + 3 * s]!;
  const ev = e0 + e2, od = e1 + e3, ev4 = e0 + 4 * e2, od8 = 2 * e1 + 8 * e3;
  b[p] = e0; b[p + t] = ev + od; b[p + 2 * t] = ev - od; b[p + 3 * t] = ev4 + od8; b[p + 4 * t] = ev4 - od8; b[p + 5 * t] = e3;
}

/** Ŷ_ξ[k, t] = (A·e·Aᵀ)_ξ for the 4×4 block e of dy on every tile t (zero past the edges), Ŷ laid out [36, K, T]. */
export function winograd43GradOutput(dy: FloatArray, n0: number, m: number, K: number, T: number, TH: number, TW: number, P: number, Q: number, Y: FloatArray): void {
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  const e = new Float64Array(16), r = new Float64Array(24), v = new Float64Array(36);
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < K; k++) {
      const src = (n0 + j) * K * PQ + k * PQ;
      let t = k * T + j * Timg;
      for (let th = 0; th < TH; th++) {
        for (let tw = 0; tw < TW; tw++, t++) {
          for (let p = 0; p < 4; p++) {
            const row = 4 * th + p;
            for (let q = 0; q < 4; q++) {
              const col = 4 * tw + q;
              e[4 * p + q] = row < P && col < Q ? dy[src + row * Q + col]! : 0;
            }
          }
          // r[6, 4] = A·e (per column), v[6, 6] = r·Aᵀ (per row)
          for (let q = 0; q < 4; q++) av(e, q, 4, r, q, 4);
          for (let i = 0; i < 6; i++) av(r, 4 * i, 1, v, 6 * i, 1);
          for (let xi = 0; xi < 36; xi++) Y[t + xi * KT] = v[xi]!;
        }
      }
    }
  }
}

/** Images per chunk: the transformed input of a chunk holds up to this many values (as in winograd.ts). */
const WINOGRAD_BUDGET = 1 << 20;

function tiles(P: number, Q: number, C: number, K: number, N: number) {
  const TH = (P + 3) >> 2, TW = (Q + 3) >> 2, Timg = TH * TW;
  const nb = Math.max(1, Math.min(N, Math.floor(WINOGRAD_BUDGET / Math.max(1, 36 * Math.max(C, K) * Timg))));
  return { TH, TW, Timg, nb };
}

/** y[N, K, P, Q] = the 3×3 cross-correlation of x with the filters U = winograd43Weights(...) ([36, K, C]) by F(4×4, 3×3); y overwritten. */
export function winograd43Conv3x3(
  x: FloatArray, N: number, C: number, H: number, W: number, U: FloatArray, K: number,
  padH: number, padW: number, P: number, Q: number, y: FloatArray, ctx: WinogradContext,
  /** Called with each chunk of images [n0, n0 + m) once its planes are written (the caller's epilogue: bias, ReLU). */
  written?: (n0: number, m: number) => void,
): void {
  if (N === 0 || P <= 0 || Q <= 0) return;
  const { TH, TW, Timg, nb } = tiles(P, Q, C, K, N);
  const V = ctx.alloc(36 * C * nb * Timg), M = ctx.alloc(36 * K * nb * Timg);
  const pad = new Float64Array((4 * TH + 2) * (4 * TW + 2));
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0), T = m * Timg, CT = C * T, KT = K * T;
    (ctx.input43 ?? winograd43Input)(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
    (ctx.gemms ?? gemmBatch)(ctx.gemm, 36, false, false, K, T, C, 1, U, 0, K * C, C, V, 0, CT, T, 0, M, 0, KT, T);
    (ctx.output43 ?? winograd43Output)(M, n0, m, K, T, TH, TW, P, Q, y);
    written?.(n0, m);
  }
}

/** dw[K, C, 3, 3] += the weight gradient of the F(4×4, 3×3) forward for dy[N, K, P, Q]: Gᵀ·[Σ_t (A·dy_t·Aᵀ) ⊙ (Bᵀ·d_t·B)]·G. */
export function winograd43WeightGrad3x3(
  x: FloatArray, N: number, C: number, H: number, W: number, dy: FloatArray, K: number,
  padH: number, padW: number, P: number, Q: number, dw: FloatArray, ctx: WinogradContext,
): void {
  if (N === 0 || P <= 0 || Q <= 0) return;
  const { TH, TW, Timg, nb } = tiles(P, Q, C, K, N);
  const KC = K * C;
  const V = ctx.alloc(36 * C * nb * Timg), Y = ctx.alloc(36 * K * nb * Timg), Gh = ctx.alloc(36 * KC);
  const pad = new Float64Array((4 * TH + 2) * (4 * TW + 2));
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0), T = m * Timg, KT = K * T, CT = C * T;
    (ctx.input43 ?? winograd43Input)(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
    (ctx.gradOutput43 ?? winograd43GradOutput)(dy, n0, m, K, T, TH, TW, P, Q, Y);
    (ctx.gemms ?? gemmBatch)(ctx.gemm, 36, false, true, K, C, T, 1, Y, 0, KT, T, V, 0, CT, T, 1, Gh, 0, KC, C);
  }
  (ctx.filterGrad43 ?? winograd43FilterGrad)(Gh, KC, dw);
}

/** dw[f] += Gᵀ·Ĝ_f·G (3 × 3) for the KC filters f whose 6 × 6 transformed gradients lie in Ĝ[36, KC]. */
export function winograd43FilterGrad(Gh: FloatArray, KC: number, dw: FloatArray): void {
  // Gᵀ·z = [z0/4 − (z1 + z2)/6 + (z3 + z4)/24, (z2 − z1)/6 + (z3 − z4)/12, (z3 + z4 − z1 − z2)/6 + z5]
  const gt = (z: Float64Array, o: number, s: number, out: Float64Array, p: number, t: number) => {
    const z0 = z[o]!, z1 = z[o + s]!, z2 = z[o + 2 * s]!, z3 = z[o + 3 * s]!, z4 = z[o + 4 * s]!, z5 = z[o + 5 * s]!;
    const a = z1 + z2, b = z3 + z4;
    out[p] = 0.25 * z0 - a * R6 + b * R24;
    out[p + t] = (z2 - z1) * R6 + (z3 - z4) * R12;
    out[p + 2 * t] = (b - a) * R6 + z5;
  };
  // in blocks of filters, each of Ĝ's 36 planes read as a run (BLOCK: the cache sets)
  const z = new Float64Array(36 * BLOCK), r = new Float64Array(18), d = new Float64Array(9);
  for (let kc0 = 0; kc0 < KC; kc0 += BLOCK) {
    const n = Math.min(BLOCK, KC - kc0);
    for (let xi = 0; xi < 36; xi++) {
      const o = xi * KC + kc0, p = xi * BLOCK;
      for (let b = 0; b < n; b++) z[p + b] = Gh[o + b]!;
    }
    for (let b = 0; b < n; b++) {
      for (let q = 0; q < 6; q++) gt(z, q * BLOCK + b, 6 * BLOCK, r, q, 6); // r[3, 6] = Gᵀ·Ĝ
      for (let i = 0; i < 3; i++) gt(r, 6 * i, 1, d, 3 * i, 1); // d = r·G
      const o = (kc0 + b) * 9;
      for (let i = 0; i < 9; i++) dw[o + i] += d[i]!;
    }
  }
}
