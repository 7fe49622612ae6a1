// General matrix multiply, row-major: C = alpha·op(A)·op(B) + beta·C,
// op(A): [M, K], op(B): [K, N], C: [M, N] (op = identity or transpose).
//
// The textbook triple loop: for each (i, j), the dot product of row i of op(A) and
// column j of op(B), summed in a JavaScript number (float64) and stored once. The four
// transpose cases differ only in the strides of op(A) and op(B):
//   op(A)(i, p) = A[aOffset + i·aI + p·aP]   A stored [M, K]: aI = lda, aP = 1; transA ([K, M]): aI = 1, aP = lda
//   op(B)(p, j) = B[bOffset + p·bP + j·bJ]   B stored [K, N]: bP = ldb, bJ = 1; transB ([N, K]): bP = 1, bJ = ldb
// The fast backend's gemm (src/kernels/cpu/simd/gemm.ts) is held to this one.
import type { FloatArray } from '../../backend.js';
import { ShapeError, ValueError } from '../../../util/errors.js';

export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
): void {
  checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
  if (alpha === 0 || K === 0) {
    // the product vanishes: C ← beta·C, without reading A or B (beta = 0: C not read)
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const c = cOffset + i * ldc + j;
        C[c] = beta === 0 ? 0 : beta * C[c]!;
      }
    }
    return;
  }
  const aI = transA ? 1 : lda, aP = transA ? lda : 1;
  const bP = transB ? 1 : ldb, bJ = transB ? ldb : 1;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      let a = aOffset + i * aI, b = bOffset + j * bJ;
      for (let p = 0; p < K; p++, a += aP, b += bP) sum += A[a]! * B[b]!;
      const c = cOffset + i * ldc + j;
      C[c] = beta === 0 ? alpha * sum : alpha * sum + beta * C[c]!;
    }
  }
}

/** O(1) checks of sizes, leading dimensions and array extents, with a readable error (the fast backend makes the same checks). */
export function checkArgs(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  C: FloatArray, cOffset: number, ldc: number,
): void {
  const call = `gemm(transA=${transA}, transB=${transB}, M=${M}, N=${N}, K=${K})`;
  for (const [name, v] of [['M', M], ['N', N], ['K', K]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${call}: ${name} must be a non-negative integer`);
  }
  const check = (name: string, X: FloatArray, off: number, ld: number, rows: number, cols: number) => {
    if (rows === 0 || cols === 0) return;
    if (!Number.isInteger(off) || off < 0) throw new ValueError(`${call}: ${name} offset ${off} must be a non-negative integer`);
    if (!Number.isInteger(ld) || ld < cols) throw new ShapeError(`${call}: ld${name.toLowerCase()}=${ld} is smaller than the ${cols} columns ${name} is stored with`);
    const last = off + (rows - 1) * ld + cols;
    if (last > X.length) throw new ShapeError(`${call}: ${name} stored as [${rows}, ${cols}] with ld=${ld} at offset ${off} needs ${last} elements, array has ${X.length}`);
  };
  check('A', A, aOffset, lda, transA ? K : M, transA ? M : K);
  check('B', B, bOffset, ldb, transB ? N : K, transB ? K : N);
  check('C', C, cOffset, ldc, M, N);
}
