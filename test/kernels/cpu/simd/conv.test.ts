// The fast backend's convolution code (src/kernels/cpu/simd/conv.ts, winograd.ts), run here
// with the reference gemm and float64 scratch, against convolution straight from its
// definition (forward and all three gradients): im2col + gemm over random geometries and
// the full grid of stride × padding × dilation; images batched into one gemm in chunks of
// any size (the column budget) give the same results; same-width stride-1 convolutions on
// im2col's shifted-copy path; Winograd F(2×2, 3×3) (3×3, stride 1: forward, input and
// weight gradients) for every padding 0..2, odd and even sizes, down to 1×1 outputs.
// (The same code with the SIMD gemm is held to the reference in backend.test.ts and the
// conformance suite.)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { windowGeometry } from '../../../../src/kernels/geometry.js';
import * as simdConv from '../../../../src/kernels/cpu/simd/conv.js';
import { setConvColumnBudget, setConvWinograd, type ConvContext } from '../../../../src/kernels/cpu/simd/conv.js';
import { winogradConv3x3, winogradWeightGrad3x3, winogradWeights, type WinogradContext } from '../../../../src/kernels/cpu/simd/winograd.js';
import { gemm } from '../../../../src/kernels/cpu/ref/gemm.js';
import type { FloatArray, WindowGeometry } from '../../../../src/kernels/backend.js';
import { Generator } from '../../../../src/index.js';
import { convCaseArb, type ConvCase } from '../../../helpers/arbitraries.js';
import { expectClose } from '../../../helpers/check.js';
import { checkConv, geometryOf, naiveConv, naiveConvBackward, rand, type ConvKernels } from '../../../helpers/naive.js';

/** Winograd with the reference gemm and float64 transforms and storage. */
const wino: WinogradContext = { gemm, alloc: (n) => new Float64Array(n) };
/** The convolution context: the reference gemm, scratch of the data's dtype. */
const ctx: ConvContext = { gemm, alloc: (dtype, n) => (dtype === 'float64' ? new Float64Array(n) : new Float32Array(n)), winograd: wino };

/** The fast backend's convolution code under the reference's signatures. */
const conv: ConvKernels = {
  conv2dForward: (x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry, y: FloatArray) => simdConv.conv2dForward(x, N, w, K, b, g, y, ctx),
  conv2dBackward: (x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray, dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null) =>
    simdConv.conv2dBackward(x, N, w, K, g, dy, dx, dw, db, ctx),
};
const { conv2dForward, conv2dBackward } = conv;

describe('im2col + gemm convolution equals a naive direct convolution', () => {
  it('random geometries, float64 and float32', () => {
    fc.assert(fc.property(convCaseArb({ maxN: 3, maxC: 3, maxK: 4, maxR: 4, maxDil: 3, maxExtra: 6 }), fc.nat(), (c, seed) => {
      checkConv(conv, c, new Generator(seed), Float64Array, 1e-12);
      checkConv(conv, c, new Generator(seed), Float32Array, 1e-4); // float32 sums of up to 48 terms
    }), { numRuns: 60 });
  });

  it('any chunking of the batch (column budget from one image per gemm to all at once), float64 and float32', () => {
    fc.assert(fc.property(convCaseArb({ maxN: 5, maxC: 3, maxK: 4, maxR: 3, maxDil: 2, maxExtra: 5 }), fc.nat(), fc.nat(6), (c, seed, per) => {
      const g = geometryOf(c);
      // per = images per chunk (0: one per gemm); chunks of 2 or 3 with N = 5 leave a partial last chunk
      const prev = setConvColumnBudget(per * c.C * c.R * c.S * g.P * g.Q);
      try {
        checkConv(conv, c, new Generator(seed), Float64Array, 1e-12);
        checkConv(conv, c, new Generator(seed), Float32Array, 1e-4);
      } finally {
        setConvColumnBudget(prev);
      }
    }), { numRuns: 60 });
  });

  it('the full grid: stride 1..3 × padding 0..2 × dilation 1..3 on each axis', () => {
    const gen = new Generator(1);
    let n = 0;
    for (const sH of [1, 2, 3]) for (const sW of [1, 2, 3]) for (const pH of [0, 1, 2]) for (const pW of [0, 1, 2]) for (const dH of [1, 2, 3]) for (const dW of [1, 2, 3]) {
      const R = 3, S = 2;
      const H = Math.max(1, dH * (R - 1) + 1 - 2 * pH) + (n % 3), W = Math.max(1, dW * (S - 1) + 1 - 2 * pW) + ((n >> 1) % 3);
      checkConv(conv, { N: 1 + (n % 2), C: 2, K: 2, H, W, R, S, stride: [sH, sW], padding: [pH, pW], dilation: [dH, dW] }, gen, Float64Array, 1e-12);
      n++;
    }
    expect(n).toBe(729);
  });

  it('same-width stride-1 convolutions large enough for the shifted-copy path equal the naive convolution', () => {
    const gen = new Generator(7);
    for (const [H, W, R, S, pH, pW, dH, dW] of [[12, 10, 3, 3, 1, 1, 1, 1], [9, 16, 5, 3, 0, 1, 1, 1], [8, 8, 3, 5, 2, 4, 2, 2], [11, 13, 1, 1, 0, 0, 1, 1], [10, 9, 4, 3, 3, 2, 1, 2]] as const) {
      checkConv(conv, { N: 3, C: 2, K: 3, H, W, R, S, stride: [1, 1], padding: [pH, pW], dilation: [dH, dW] }, gen, Float64Array, 1e-12);
      checkConv(conv, { N: 3, C: 2, K: 3, H, W, R, S, stride: [1, 1], padding: [pH, pW], dilation: [dH, dW] }, gen, Float32Array, 1e-4);
    }
  });
});

describe('Winograd F(2×2, 3×3) convolution equals the naive convolution', () => {
  it('conv2dForward / conv2dBackward on the Winograd path: padding 0..2 on each axis, odd and even sizes, float64 and float32', () => {
    const gen = new Generator(11);
    let n = 0;
    for (const pH of [0, 1, 2]) for (const pW of [0, 1, 2]) for (const [H, W] of [[8, 8], [9, 11], [12, 7], [10, 10]] as const) {
      const c: ConvCase = { N: 1 + (n % 3), C: 2 + (n % 2), K: 3, H, W, R: 3, S: 3, stride: [1, 1], padding: [pH, pW], dilation: [1, 1] };
      const g = geometryOf(c);
      if (g.P * g.Q < 64) continue; // below WINOGRAD_MIN_PQ im2col + gemm runs: covered above
      checkConv(conv, c, gen, Float64Array, 1e-12);
      checkConv(conv, c, gen, Float32Array, 1e-4);
      n++;
    }
    expect(n).toBeGreaterThan(20);
  });

  it('the Winograd path gives the same result as im2col + gemm, and dx alone / dw alone work', () => {
    const gen = new Generator(5);
    const c: ConvCase = { N: 3, C: 5, K: 6, H: 13, W: 10, R: 3, S: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] };
    const g = geometryOf(c);
    const x = rand(c.N * c.C * c.H * c.W, gen), w = rand(c.K * c.C * 9, gen), b = rand(c.K, gen), dy = rand(c.N * c.K * g.P * g.Q, gen);
    const run = (wino: boolean) => {
      const prev = setConvWinograd(wino);
      try {
        const y = new Float64Array(dy.length);
        conv2dForward(x, c.N, w, c.K, b, g, y);
        const dx = new Float64Array(x.length).fill(NaN), dw = new Float64Array(w.length);
        conv2dBackward(x, c.N, w, c.K, g, dy, dx, null, null);
        conv2dBackward(x, c.N, w, c.K, g, dy, null, dw, null);
        return { y, dx, dw };
      } finally {
        setConvWinograd(prev);
      }
    };
    const a = run(true), r = run(false);
    expectClose(a.y, r.y, 'winograd forward', 1e-12, 1e-12);
    expectClose(a.dx, r.dx, 'winograd dx', 1e-12, 1e-12);
    expectClose(a.dw, r.dw, 'dw', 1e-12, 1e-12);
  });

  it('winogradConv3x3 / winogradWeightGrad3x3 directly, down to 1×1 outputs, with and without the flipped (input-gradient) filters', () => {
    const gen = new Generator(3);
    for (const [H, W, pH, pW] of [[3, 3, 0, 0], [1, 1, 1, 1], [2, 5, 1, 0], [4, 3, 2, 2], [6, 1, 1, 2]] as const) {
      const N = 2, C = 3, K = 2;
      const g = windowGeometry('test', C, H, W, 3, 3, { padding: [pH, pW] });
      const x = rand(N * C * H * W, gen), w = rand(K * C * 9, gen);
      const y = new Float64Array(N * K * g.P * g.Q).fill(NaN);
      winogradConv3x3(x, N, C, H, W, winogradWeights(w, K, C, false, wino), K, pH, pW, g.P, g.Q, y, wino);
      expectClose(y, naiveConv(x, N, w, K, null, g), `winograd ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
      // flip: the input gradient of the same convolution, a convolution of dy with padding 2 − pad
      const dy = rand(y.length, gen);
      const dx = new Float64Array(x.length).fill(NaN);
      winogradConv3x3(dy, N, K, g.P, g.Q, winogradWeights(w, K, C, true, wino), C, 2 - pH, 2 - pW, H, W, dx, wino);
      const ref = naiveConvBackward(x, N, w, K, g, dy);
      expectClose(dx, ref.dx, `winograd input gradient ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
      // weight gradient, accumulated (+=) onto what dw holds
      const dw = new Float64Array(w.length).fill(1);
      winogradWeightGrad3x3(x, N, C, H, W, dy, K, pH, pW, g.P, g.Q, dw, wino);
      expectClose(dw, ref.dw.map((v) => v + 1), `winograd weight gradient ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
    }
  });
});
