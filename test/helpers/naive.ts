// gemm, convolution and im2col straight from their definitions, written apart from every
// backend's kernels (the reference's included): the independent checks that the kernel
// tests (test/kernels/cpu/ref/, test/kernels/cpu/simd/) and the conformance suite hold the
// backends to, so that a mistake in the reference itself fails a test.
import type { FloatArray, WindowGeometry } from '../../src/kernels/backend.js';
import { windowGeometry } from '../../src/kernels/geometry.js';
import { Generator } from '../../src/index.js';
import type { ConvCase } from './arbitraries.js';
import { expect } from 'vitest';
import { expectClose } from './check.js';

export const geometryOf = (c: ConvCase): WindowGeometry =>
  windowGeometry('test', c.C, c.H, c.W, c.R, c.S, { stride: c.stride, padding: c.padding, dilation: c.dilation });

export function rand(n: number, gen: Generator, Arr: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): FloatArray {
  const out = new Arr(n);
  for (let i = 0; i < n; i++) out[i] = gen.uniform(-1, 1);
  return out;
}

/** The input pixel that tap (r, s) of output (p, q) reads, or null in the padding. */
export function tap(g: WindowGeometry, p: number, q: number, r: number, s: number): [number, number] | null {
  const h = p * g.strideH - g.padH + r * g.dilH, w = q * g.strideW - g.padW + s * g.dilW;
  return h >= 0 && h < g.H && w >= 0 && w < g.W ? [h, w] : null;
}

/** C (the whole array, ldc layout) after alpha·op(A)·op(B) + beta·C, from the definition; beta = 0 does not read C. */
export function naiveGemm(tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number, A: ArrayLike<number>, lda: number, B: ArrayLike<number>, ldb: number, beta: number, C: ArrayLike<number>, ldc: number): number[] {
  const out = Array.from(C);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += (tA ? A[k * lda + i]! : A[i * lda + k]!) * (tB ? B[j * ldb + k]! : B[k * ldb + j]!);
    out[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * C[i * ldc + j]!);
  }
  return out;
}

/** Direct convolution, straight from the definition: y[n,k,p,q] = b[k] + Σ_{c,r,s} w[k,c,r,s]·x[n,c,h,w]. */
export function naiveConv(x: ArrayLike<number>, N: number, w: ArrayLike<number>, K: number, b: ArrayLike<number> | null, g: WindowGeometry): Float64Array {
  const { C, H, W, R, S, P, Q } = g;
  const y = new Float64Array(N * K * P * Q);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    let acc = b ? b[k]! : 0;
    for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
      const t = tap(g, p, q, r, s);
      if (t) acc += w[((k * C + c) * R + r) * S + s]! * x[((n * C + c) * H + t[0]) * W + t[1]]!;
    }
    y[((n * K + k) * P + p) * Q + q] = acc;
  }
  return y;
}

/** Gradients of the direct convolution, also from the definition. */
export function naiveConvBackward(x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray) {
  const { C, H, W, R, S, P, Q } = g;
  const dx = new Float64Array(N * C * H * W), dw = new Float64Array(K * C * R * S), db = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    const d = dy[((n * K + k) * P + p) * Q + q]!;
    db[k]! += d;
    for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
      const t = tap(g, p, q, r, s);
      if (!t) continue;
      const xi = ((n * C + c) * H + t[0]) * W + t[1], wi = ((k * C + c) * R + r) * S + s;
      dx[xi]! += d * w[wi]!;
      dw[wi]! += d * x[xi]!;
    }
  }
  return { dx, dw, db };
}

/** cols straight from the definition: row (c, r, s), column (p, q) holds x[c, h, w] for the tap, 0 in the padding. */
export function naiveIm2col(x: FloatArray, g: WindowGeometry): Float64Array {
  const PQ = g.P * g.Q;
  const cols = new Float64Array(g.C * g.R * g.S * PQ);
  for (let c = 0; c < g.C; c++) for (let r = 0; r < g.R; r++) for (let s = 0; s < g.S; s++) for (let p = 0; p < g.P; p++) for (let q = 0; q < g.Q; q++) {
    const t = tap(g, p, q, r, s);
    cols[((c * g.R + r) * g.S + s) * PQ + p * g.Q + q] = t ? x[(c * g.H + t[0]) * g.W + t[1]]! : 0;
  }
  return cols;
}

/** The convolution kernels under test, over host arrays (the reference's signatures). */
export interface ConvKernels {
  conv2dForward(x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry, y: FloatArray): void;
  conv2dBackward(x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray, dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null): void;
}

/** Runs the forward and all three gradients of `conv` on case c and compares them with the definitions. */
export function checkConv(conv: ConvKernels, c: ConvCase, gen: Generator, Arr: Float32ArrayConstructor | Float64ArrayConstructor, tol: number): void {
  const g = geometryOf(c);
  const where = `N ${c.N} C ${c.C} ${c.H}×${c.W}, K ${c.K} ${c.R}×${c.S}, stride ${c.stride}, padding ${c.padding}, dilation ${c.dilation} → ${g.P}×${g.Q}`;
  expect([g.P, g.Q]).toEqual([
    Math.floor((c.H + 2 * c.padding[0] - c.dilation[0] * (c.R - 1) - 1) / c.stride[0]) + 1,
    Math.floor((c.W + 2 * c.padding[1] - c.dilation[1] * (c.S - 1) - 1) / c.stride[1]) + 1,
  ]);
  const x = rand(c.N * c.C * c.H * c.W, gen, Arr), w = rand(c.K * c.C * c.R * c.S, gen, Arr), b = rand(c.K, gen, Arr);
  const y = new Arr(c.N * c.K * g.P * g.Q).fill(NaN); // the kernel must overwrite every output
  conv.conv2dForward(x, c.N, w, c.K, b, g, y);
  expectClose(y, naiveConv(x, c.N, w, c.K, b, g), `conv forward (${where})`, tol, tol);

  const dy = rand(y.length, gen, Arr);
  const dx = new Arr(x.length).fill(NaN), dw = new Arr(w.length), db = new Arr(c.K);
  conv.conv2dBackward(x, c.N, w, c.K, g, dy, dx, dw, db);
  const ref = naiveConvBackward(x, c.N, w, c.K, g, dy);
  expectClose(dx, ref.dx, `conv dx (${where})`, tol, tol);
  expectClose(dw, ref.dw, `conv dw (${where})`, tol, tol);
  expectClose(db, ref.db, `conv db (${where})`, tol, tol);
}
