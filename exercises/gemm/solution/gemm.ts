// Track task 3, gemm: a reference solution (the textbook triple loop, as src/kernels/cpu/ref/gemm.ts).
import type { FloatArray } from '../../../src/index.js';

export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
): void {
  // op(A)(i, p) = A[aOffset + i·aI + p·aP]; op(B)(p, j) = B[bOffset + p·bP + j·bJ]
  const aI = transA ? 1 : lda, aP = transA ? lda : 1;
  const bP = transB ? 1 : ldb, bJ = transB ? ldb : 1;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let p = 0; p < K; p++) sum += A[aOffset + i * aI + p * aP]! * B[bOffset + p * bP + j * bJ]!;
      const c = cOffset + i * ldc + j;
      C[c] = beta === 0 ? alpha * sum : alpha * sum + beta * C[c]!;
    }
  }
}
