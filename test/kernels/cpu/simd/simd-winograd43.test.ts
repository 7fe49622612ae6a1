// F(4×4, 3×3)'s SIMD transforms (src/kernels/cpu/simd/simd-winograd43.ts) against the
// float64 JavaScript ones they replace (winograd43.ts), on random sizes, paddings, chunks
// of images and values (fast-check): the input transform Bᵀ·d·B, the output transform
// Aᵀ·M·A (clipped at odd edges, writing nothing outside its images) and the output
// gradient's A·e·Aᵀ, each within float32 rounding of the reference: the norm of the
// difference over the norm of the reference (the transforms sum up to 6 × 6 terms with
// weights up to 8, so a value's own rounding is relative to its terms, not to itself).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { simdModule, SimdInstance } from '../../../../src/kernels/cpu/simd/simd.js';
import { simdWinograd43GradOutput, simdWinograd43Input, simdWinograd43Output } from '../../../../src/kernels/cpu/simd/simd-winograd43.js';
import { winograd43GradOutput, winograd43Input, winograd43Output } from '../../../../src/kernels/cpu/simd/winograd43.js';
import { Generator } from '../../../../src/index.js';

/** ‖a − b‖ / ‖b‖ (‖·‖: Euclidean), and whether a has no NaN where b has none. */
function relNormError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    const e = a[i]! - b[i]!;
    d += e !== e ? Infinity : e * e;
    s += b[i]! * b[i]!;
  }
  return Math.sqrt(d / s);
}

/** Float32 rounding, amplified by the transforms' sums (at most a few ulps of the terms). */
const TOL = 1e-6;

const m = simdModule();
const inst = m && new SimdInstance(m.module, undefined, m.winograd);

/** Random shapes: images N (of which a chunk [n0, n0 + mm) is transformed), channels, and sizes from 1 up (tile rows of 1..6 tiles, not always a multiple of 4). */
const shapes = fc.record({ N: fc.integer({ min: 1, max: 3 }), chunk: fc.nat(), C: fc.integer({ min: 1, max: 4 }), H: fc.integer({ min: 1, max: 27 }), W: fc.integer({ min: 1, max: 27 }), padH: fc.integer({ min: 0, max: 2 }), padW: fc.integer({ min: 0, max: 2 }), seed: fc.nat(), scale: fc.constantFrom(1, 1e-3, 1e3) });

describe.runIf(inst)('F(4×4, 3×3) SIMD transforms equal the float64 JavaScript ones', () => {
  it('input transform Bᵀ·d·B: random sizes, paddings, chunks and values', () => {
    fc.assert(fc.property(shapes, ({ N, chunk, C, H, W, padH, padW, seed, scale }) => {
      const P = H + 2 * padH - 2, Q = W + 2 * padW - 2;
      if (P < 1 || Q < 1) return;
      const TH = (P + 3) >> 2, TW = (Q + 3) >> 2, n0 = chunk % N, mm = N - n0, T = mm * TH * TW;
      const g = new Generator(seed);
      const x = Float32Array.from({ length: N * C * H * W }, () => g.uniform(-scale, scale));
      const want = new Float64Array(36 * C * T), got = new Float32Array(36 * C * T).fill(NaN);
      winograd43Input(x, n0, mm, C, H, W, padH, padW, TH, TW, want, new Float64Array((4 * TH + 2) * (4 * TW + 2)));
      simdWinograd43Input(inst!)(x, n0, mm, C, H, W, padH, padW, TH, TW, got, new Float64Array(0));
      expect(relNormError(got, want)).toBeLessThanOrEqual(TOL);
    }), { numRuns: 60, seed: 43 });
  });

  it('output transform Aᵀ·M·A: odd P and Q clipped, nothing written outside the chunk\'s images', () => {
    fc.assert(fc.property(shapes, ({ N, chunk, C: K, H: P, W: Q, seed, scale }) => {
      const TH = (P + 3) >> 2, TW = (Q + 3) >> 2, n0 = chunk % N, mm = N - n0, T = mm * TH * TW;
      const g = new Generator(seed);
      const M = Float32Array.from({ length: 36 * K * T }, () => g.uniform(-scale, scale));
      const want = new Float64Array(N * K * P * Q), got = new Float32Array(N * K * P * Q).fill(7);
      winograd43Output(Float64Array.from(M), n0, mm, K, T, TH, TW, P, Q, want);
      simdWinograd43Output(inst!)(M, n0, mm, K, T, TH, TW, P, Q, got);
      const o = n0 * K * P * Q;
      expect(relNormError(got.subarray(o), want.subarray(o))).toBeLessThanOrEqual(TOL);
      expect(got.subarray(0, o).every((v) => v === 7)).toBe(true);
    }), { numRuns: 60, seed: 44 });
  });

  it('output-gradient transform A·e·Aᵀ (weight gradient): odd P and Q, zero past the edges', () => {
    fc.assert(fc.property(shapes, ({ N, chunk, C: K, H: P, W: Q, seed, scale }) => {
      const TH = (P + 3) >> 2, TW = (Q + 3) >> 2, n0 = chunk % N, mm = N - n0, T = mm * TH * TW;
      const g = new Generator(seed);
      const dy = Float32Array.from({ length: N * K * P * Q }, () => g.uniform(-scale, scale));
      const want = new Float64Array(36 * K * T), got = new Float32Array(36 * K * T).fill(NaN);
      winograd43GradOutput(dy, n0, mm, K, T, TH, TW, P, Q, want);
      simdWinograd43GradOutput(inst!)(dy, n0, mm, K, T, TH, TW, P, Q, got);
      expect(relNormError(got, want)).toBeLessThanOrEqual(TOL);
    }), { numRuns: 60, seed: 45 });
  });
});
