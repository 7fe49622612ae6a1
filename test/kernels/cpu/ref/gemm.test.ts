// Properties of the reference gemm: it equals an independent float64 triple loop (written
// from op(A), op(B) here, not from the kernel's strides) for every transpose combination,
// odd sizes, alpha/beta, offsets and leading dimensions larger than the row, also with
// K past a few hundred; beta = 0 never reads C; nothing outside the M × N window of C is written.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gemm } from '../../../../src/kernels/cpu/ref/gemm.js';
import { ShapeError } from '../../../../src/util/errors.js';

type Dtype = 'float32' | 'float64';

interface Case {
  transA: boolean; transB: boolean;
  M: number; N: number; K: number;
  alpha: number; beta: number;
  aOff: number; bOff: number; cOff: number;
  aPad: number; bPad: number; cPad: number; // ld = row length + pad
  seed: number;
}

/** Deterministic values in [-1, 1) from a seed (fast-check shrinks the seed, not big arrays). */
function fillRandom(x: Float32Array | Float64Array, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    x[i] = s / 2 ** 31 - 1;
  }
}

function setup(c: Case, dtype: Dtype) {
  const T = dtype === 'float32' ? Float32Array : Float64Array;
  const aRows = c.transA ? c.K : c.M, aCols = c.transA ? c.M : c.K;
  const bRows = c.transB ? c.N : c.K, bCols = c.transB ? c.K : c.N;
  const lda = aCols + c.aPad, ldb = bCols + c.bPad, ldc = c.N + c.cPad;
  const A = new T(c.aOff + aRows * lda + 3), B = new T(c.bOff + bRows * ldb + 3), C = new T(c.cOff + c.M * ldc + 3);
  fillRandom(A, c.seed); fillRandom(B, c.seed + 1); fillRandom(C, c.seed + 2);
  // beta = 0 must not read C: fill it with NaN, which would poison any read.
  if (c.beta === 0) C.fill(NaN);
  return { A, B, C, lda, ldb, ldc };
}

/** Naive float64 triple loop, and per element the magnitude Σ|alpha·a·b| + |beta·c| that bounds its rounding error. */
function naive(c: Case, A: ArrayLike<number>, lda: number, B: ArrayLike<number>, ldb: number, C0: ArrayLike<number>, ldc: number) {
  const ref = new Float64Array(c.M * c.N), mag = new Float64Array(c.M * c.N);
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      let s = 0, m = 0;
      for (let p = 0; p < c.K; p++) {
        const a = c.transA ? A[c.aOff + p * lda + i]! : A[c.aOff + i * lda + p]!;
        const b = c.transB ? B[c.bOff + j * ldb + p]! : B[c.bOff + p * ldb + j]!;
        s += a * b; m += Math.abs(a * b);
      }
      const c0 = c.beta === 0 ? 0 : C0[c.cOff + i * ldc + j]!;
      ref[i * c.N + j] = c.alpha * s + c.beta * c0;
      mag[i * c.N + j] = Math.abs(c.alpha) * m + Math.abs(c.beta * c0);
    }
  }
  return { ref, mag };
}

/** Runs gemm on the case and returns a description of the first mismatch, or null. */
function check(c: Case, dtype: Dtype, tol: number): string | null {
  const { A, B, C, lda, ldb, ldc } = setup(c, dtype);
  const C0 = C.slice();
  const { ref, mag } = naive(c, A, lda, B, ldb, C0, ldc);
  gemm(c.transA, c.transB, c.M, c.N, c.K, c.alpha, A, c.aOff, lda, B, c.bOff, ldb, c.beta, C, c.cOff, ldc);
  for (let k = 0; k < C.length; k++) {
    const rel = k - c.cOff, i = Math.floor(rel / ldc), j = rel - i * ldc;
    const inside = rel >= 0 && i < c.M && j < c.N;
    if (!inside) {
      if (!Object.is(C[k], C0[k])) return `C[${k}] outside the ${c.M}×${c.N} window changed: ${C0[k]} → ${C[k]}`;
      continue;
    }
    const want = ref[i * c.N + j]!, got = C[k]!;
    if (!(Math.abs(got - want) <= tol * mag[i * c.N + j]! + 1e-300)) {
      return `C(${i}, ${j}) = ${got}, naive ${want} (|diff| ${Math.abs(got - want)}, scale ${mag[i * c.N + j]})`;
    }
  }
  return null;
}

const caseArb = (maxDim: number): fc.Arbitrary<Case> => fc.record({
  transA: fc.boolean(), transB: fc.boolean(),
  M: fc.integer({ min: 1, max: maxDim }), N: fc.integer({ min: 1, max: maxDim }), K: fc.integer({ min: 1, max: maxDim }),
  alpha: fc.constantFrom(1, -1, 0.5, 2.75, -0.3),
  beta: fc.constantFrom(0, 1, -1, 0.25, 1.5),
  aOff: fc.integer({ min: 0, max: 5 }), bOff: fc.integer({ min: 0, max: 5 }), cOff: fc.integer({ min: 0, max: 5 }),
  aPad: fc.integer({ min: 0, max: 3 }), bPad: fc.integer({ min: 0, max: 3 }), cPad: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

describe('gemm', () => {
  for (const [dtype, tol] of [['float64', 1e-12], ['float32', 1e-5]] as const) {
    it(`${dtype}: equals the naive triple loop (sizes 1..70)`, () => {
      fc.assert(fc.property(caseArb(70), (c) => {
        const err = check(c, dtype, tol);
        if (err) throw new Error(err);
      }), { numRuns: 60 });
    });
  }

  it('long sums and wide rows (67 × 9 × 259 and 5 × 1029 × 259), every transpose combination', () => {
    for (const [M, N] of [[67, 9], [5, 1029]] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const c: Case = { transA, transB, M, N, K: 259, alpha: 0.75, beta: -0.5, aOff: 2, bOff: 1, cOff: 3, aPad: 1, bPad: 2, cPad: 1, seed: 7 };
          expect(check(c, 'float32', 1e-5)).toBeNull();
          expect(check(c, 'float64', 1e-12)).toBeNull();
        }
      }
    }
  });

  it('K = 0 or alpha = 0: C = beta·C, and beta = 0 clears NaN', () => {
    for (const [K, alpha] of [[0, 1], [5, 0]] as const) {
      const C = new Float32Array([NaN, NaN, 1, 2]);
      const A = new Float32Array(2 * K).fill(NaN), B = new Float32Array(2 * K).fill(NaN);
      gemm(false, false, 1, 2, K, alpha, A, 0, Math.max(K, 1), B, 0, 2, 0, C, 0, 2);
      expect(Array.from(C)).toEqual([0, 0, 1, 2]);
      const D = new Float64Array([1, 2, 3, 4]);
      gemm(true, true, 2, 2, K, alpha, A, 0, 2, B, 0, Math.max(K, 1), 3, D, 0, 2);
      expect(Array.from(D)).toEqual([3, 6, 9, 12]);
    }
  });

  it('rejects a leading dimension smaller than the row, and arrays too short', () => {
    const X = new Float32Array(16);
    expect(() => gemm(false, false, 2, 2, 3, 1, X, 0, 2, X, 0, 2, 0, X, 0, 2)).toThrow(ShapeError);
    expect(() => gemm(false, false, 2, 2, 3, 1, X, 0, 3, X, 0, 1, 0, X, 0, 2)).toThrow(/ldb=1 is smaller than the 2 columns B is stored with/);
    expect(() => gemm(false, false, 4, 4, 4, 1, X, 1, 4, X, 0, 4, 0, X, 0, 4)).toThrow(/A stored as \[4, 4\] with ld=4 at offset 1 needs 17 elements, array has 16/);
  });
});
