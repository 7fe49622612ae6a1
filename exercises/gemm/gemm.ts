// Track task 3, gemm: your work. See README.md; run `npm run exercise gemm`.
import type { FloatArray } from '../../src/index.js';

/**
 * C = alpha·op(A)·op(B) + beta·C, row-major. op(A) is [M, K]: A is stored [M, K] with row
 * stride lda, or [K, M] when transA. op(B) is [K, N]: B stored [K, N] with row stride ldb,
 * or [N, K] when transB. C is [M, N] with row stride ldc. Every matrix starts at its offset.
 * beta = 0 overwrites C without reading it (C may hold NaN).
 */
export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
): void {
  // TODO: for each (i, j): sum over p of op(A)(i, p)·op(B)(p, j), then store into C.
  // op(A)(i, p) is A[aOffset + i·lda + p], or A[aOffset + p·lda + i] when transA.
  throw new Error(`TODO: gemm ${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'} with M=${M} N=${N} K=${K} (alpha ${alpha}, beta ${beta}; ${[A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc].length} buffer arguments)`);
}
