// The reference convolution (direct sums, src/kernels/cpu/ref/conv.ts) against
// convolution straight from its definition, forward and all three gradients, over random
// geometries (float64 and float32) and the full grid of stride × padding × dilation; and
// conv2dIm2col, the lesson's im2col + gemm, equals the direct forward.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ref from '../../../../src/kernels/cpu/ref/conv.js';
import { Generator } from '../../../../src/index.js';
import { convCaseArb } from '../../../helpers/arbitraries.js';
import { expectClose } from '../../../helpers/check.js';
import { checkConv, geometryOf, rand } from '../../../helpers/naive.js';

describe('the direct convolution equals its definition', () => {
  it('random geometries, float64 and float32', () => {
    fc.assert(fc.property(convCaseArb({ maxN: 3, maxC: 3, maxK: 4, maxR: 4, maxDil: 3, maxExtra: 6 }), fc.nat(), (c, seed) => {
      checkConv(ref, c, new Generator(seed), Float64Array, 1e-12);
      checkConv(ref, c, new Generator(seed), Float32Array, 1e-4); // float32 sums of up to 48 terms
    }), { numRuns: 60 });
  });

  it('the full grid: stride 1..3 × padding 0..2 × dilation 1..3 on each axis', () => {
    const gen = new Generator(1);
    let n = 0;
    for (const sH of [1, 2, 3]) for (const sW of [1, 2, 3]) for (const pH of [0, 1, 2]) for (const pW of [0, 1, 2]) for (const dH of [1, 2, 3]) for (const dW of [1, 2, 3]) {
      const R = 3, S = 2;
      const H = Math.max(1, dH * (R - 1) + 1 - 2 * pH) + (n % 3), W = Math.max(1, dW * (S - 1) + 1 - 2 * pW) + ((n >> 1) % 3);
      checkConv(ref, { N: 1 + (n % 2), C: 2, K: 2, H, W, R, S, stride: [sH, sW], padding: [pH, pW], dilation: [dH, dW] }, gen, Float64Array, 1e-12);
      n++;
    }
    expect(n).toBe(729);
  });
});

describe('conv2dIm2col (im2col + gemm) equals the direct convolution', () => {
  it('random geometries, float64 and float32', () => {
    fc.assert(fc.property(convCaseArb({ maxN: 3, maxC: 3, maxK: 4, maxR: 4, maxDil: 3, maxExtra: 6 }), fc.nat(), (c, seed) => {
      const g = geometryOf(c);
      for (const [Arr, tol] of [[Float64Array, 1e-12], [Float32Array, 1e-5]] as const) {
        const gen = new Generator(seed);
        const x = rand(c.N * c.C * c.H * c.W, gen, Arr), w = rand(c.K * c.C * c.R * c.S, gen, Arr), b = rand(c.K, gen, Arr);
        const direct = new Arr(c.N * c.K * g.P * g.Q).fill(NaN), lesson = new Arr(direct.length).fill(NaN);
        ref.conv2dForward(x, c.N, w, c.K, b, g, direct);
        ref.conv2dIm2col(x, c.N, w, c.K, b, g, lesson);
        expectClose(lesson, direct, `conv2dIm2col ${Arr.name}`, tol, tol);
      }
    }), { numRuns: 60 });
  });
});
