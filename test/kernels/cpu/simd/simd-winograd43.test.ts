// F(4×4, 3×3)'s SIMD transforms (src/kernels/cpu/simd/simd-winograd43.ts) against the
// float64 JavaScript ones they replace (winograd43.ts), on random sizes, paddings, chunks
// of images and values (fast-check): the input transform Bᵀ·d·B, the output transform
// Aᵀ·M·A (clipped at odd edges, writing nothing outside its images), the output
// gradient's A·e·Aᵀ, the filter transform G·g·Gᵀ (by ranges of output channels, flipped or
// not) and the weight gradient's Gᵀ·Ĝ·G, each within float32 rounding of the reference: the norm of the
// difference over the norm of the reference (the transforms sum up to 6 × 6 terms with
// weights up to 8, so a value's own rounding is relative to its terms, not to itself).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { simdModule, SimdInstance } from '../../../../src/kernels/cpu/simd/simd.js';
import { MAX_STAGED, simdWinograd43FilterGrad, simdWinograd43GradOutput, simdWinograd43Input, simdWinograd43Output, simdWinograd43WeightsRange } from '../../../../src/kernels/cpu/simd/simd-winograd43-run.js';
import { winograd43FilterGrad, winograd43GradOutput, winograd43Input, winograd43Output, winograd43WeightsRange } from '../../../../src/kernels/cpu/simd/winograd43.js';
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

describe.runIf(inst)('F(4×4, 3×3) SIMD filter transform equals the float64 JavaScript one', () => {
  it('G·g·Gᵀ of ranges of output channels, as given and flipped (input gradient), random K, C and values', () => {
    fc.assert(fc.property(
      fc.record({ K: fc.integer({ min: 1, max: 9 }), C: fc.integer({ min: 1, max: 9 }), a: fc.nat(), b: fc.nat(), flip: fc.boolean(), seed: fc.nat() }),
      ({ K, C, a, b, flip, seed }) => {
        const k0 = a % K, k1 = k0 + 1 + (b % (K - k0));
        const g = new Generator(seed);
        const w = Float32Array.from({ length: K * C * 9 }, () => g.uniform(-1, 1));
        const want = new Float64Array(36 * K * C), got = new Float32Array(36 * K * C);
        winograd43WeightsRange(w, K, C, flip, want, k0, k1);
        simdWinograd43WeightsRange(inst!)(w, K, C, flip, got, k0, k1);
        expect(relNormError(got, want)).toBeLessThanOrEqual(TOL);
        // outside the range nothing is written
        for (let xi = 0; xi < 36; xi++) {
          for (let k = 0; k < K; k++) {
            if (k >= k0 && k < k1) continue;
            for (let c = 0; c < C; c++) expect(got[xi * K * C + (flip ? c * K + k : k * C + c)]).toBe(0);
          }
        }
      },
    ), { numRuns: 60, seed: 46 });
  });
});

describe.runIf(inst)('F(4×4, 3×3) SIMD weight-gradient step equals the float64 JavaScript one', () => {
  it('dw += Gᵀ·Ĝ·G for random numbers of filters (not multiples of 4) and values, added to what dw held', () => {
    fc.assert(fc.property(fc.record({ KC: fc.integer({ min: 1, max: 70 }), seed: fc.nat(), scale: fc.constantFrom(1, 1e-3, 1e3) }), ({ KC, seed, scale }) => {
      const g = new Generator(seed);
      const Gh = Float32Array.from({ length: 36 * KC }, () => g.uniform(-scale, scale));
      const dw0 = Float32Array.from({ length: 9 * KC }, () => g.uniform(-scale, scale));
      const want = Float64Array.from(dw0), got = Float32Array.from(dw0);
      winograd43FilterGrad(Gh, KC, want);
      simdWinograd43FilterGrad(inst!)(Gh, KC, got);
      expect(relNormError(got, want)).toBeLessThanOrEqual(TOL);
    }), { numRuns: 60, seed: 47 });
  });
});

describe.runIf(inst)('F(4×4, 3×3) SIMD transforms in blocks: the same bits, a bounded memory', () => {
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  it('any staging limit (down to one channel or filter a block) gives the bits of one block', () => {
    fc.assert(fc.property(shapes, fc.constantFrom(1, 300, 3000), ({ N, chunk, C, H, W, padH, padW, seed, scale }, staged) => {
      const P = H + 2 * padH - 2, Q = W + 2 * padW - 2;
      if (P < 1 || Q < 1) return;
      const TH = (P + 3) >> 2, TW = (Q + 3) >> 2, n0 = chunk % N, mm = N - n0, T = mm * TH * TW, K = C;
      const g = new Generator(seed);
      const x = Float32Array.from({ length: N * C * H * W }, () => g.uniform(-scale, scale));
      const V = (s: number) => { const o = new Float32Array(36 * C * T); simdWinograd43Input(inst!, s)(x, n0, mm, C, H, W, padH, padW, TH, TW, o, new Float64Array(0)); return o; };
      expect(same(V(staged), V(MAX_STAGED))).toBe(true);
      const M = Float32Array.from({ length: 36 * K * T }, () => g.uniform(-scale, scale));
      const y = (s: number) => { const o = new Float32Array(N * K * P * Q); simdWinograd43Output(inst!, s)(M, n0, mm, K, T, TH, TW, P, Q, o); return o; };
      expect(same(y(staged), y(MAX_STAGED))).toBe(true);
      const dy = Float32Array.from({ length: N * K * P * Q }, () => g.uniform(-scale, scale));
      const E = (s: number) => { const o = new Float32Array(36 * K * T); simdWinograd43GradOutput(inst!, s)(dy, n0, mm, K, T, TH, TW, P, Q, o); return o; };
      expect(same(E(staged), E(MAX_STAGED))).toBe(true);
      const w = Float32Array.from({ length: K * C * 9 }, () => g.uniform(-1, 1));
      for (const flip of [false, true]) {
        const U = (s: number) => { const o = new Float32Array(36 * K * C); simdWinograd43WeightsRange(inst!, s)(w, K, C, flip, o, 0, K); return o; };
        expect(same(U(staged), U(MAX_STAGED))).toBe(true);
      }
      const KC = K * C * 9; // more filters than the 4 a vector holds
      const Gh = Float32Array.from({ length: 36 * KC }, () => g.uniform(-scale, scale));
      const D = (s: number) => { const o = new Float32Array(9 * KC).fill(1); simdWinograd43FilterGrad(inst!, s)(Gh, KC, o); return o; };
      expect(same(D(staged), D(MAX_STAGED))).toBe(true);
    }), { numRuns: 40, seed: 48 });
  });

  it('a layer larger than the limit (VGG-16 conv3 at 56², 256 channels) stays within it in a fresh instance\'s memory', () => {
    const fresh = new SimdInstance(m!.module, undefined, m!.winograd);
    const bound = Math.max(fresh.memory.buffer.byteLength, 4 * MAX_STAGED + 65536);
    const C = 256, H = 56, P = 56, TH = 14, T = TH * TH, g = new Generator(5);
    const x = Float32Array.from({ length: C * H * H }, () => g.uniform(-1, 1));
    const V = new Float32Array(36 * C * T); // 7.2 MB, more than the limit
    simdWinograd43Input(fresh)(x, 0, 1, C, H, H, 1, 1, TH, TH, V, new Float64Array(0));
    simdWinograd43Output(fresh)(V, 0, 1, C, T, TH, TH, P, P, new Float32Array(C * P * P));
    simdWinograd43GradOutput(fresh)(x, 0, 1, C, T, TH, TH, P, P, V);
    const w = Float32Array.from({ length: C * C * 9 }, () => g.uniform(-1, 1));
    simdWinograd43WeightsRange(fresh)(w, C, C, true, new Float32Array(36 * C * C), 0, C); // 9.4 MB of U
    simdWinograd43FilterGrad(fresh)(new Float32Array(36 * C * C), C * C, new Float32Array(9 * C * C));
    expect(fresh.memory.buffer.byteLength).toBeLessThanOrEqual(bound);
  });
});
