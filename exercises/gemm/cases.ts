// The tests of track task 3, gemm (run: npm run exercise gemm).
import { gemm as refGemm } from '../../src/kernels/cpu/ref/gemm.js';
import { defineExercise } from '../harness.js';
import { arr, backendWith, expectClose, expectSameTraining, randomArray, trainTiny } from '../kit.js';

type Impl = typeof import('./gemm.js');

function call(impl: Impl['gemm'], tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number, beta: number, pad: number): void {
  // A, B, C inside larger arrays: offset 2, leading dimensions `pad` wider than the rows
  const aRows = tA ? K : M, aCols = tA ? M : K, bRows = tB ? N : K, bCols = tB ? K : N;
  const lda = aCols + pad, ldb = bCols + pad, ldc = N + pad;
  const A = randomArray(2 + aRows * lda, 1), B = randomArray(2 + bRows * ldb, 2);
  const C = randomArray(2 + M * ldc, 3), want = Float64Array.from(C);
  if (beta === 0) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) C[2 + i * ldc + j] = NaN; // beta = 0: C is not read
  refGemm(tA, tB, M, N, K, alpha, A, 2, lda, B, 2, ldb, beta, want, 2, ldc);
  impl(tA, tB, M, N, K, alpha, A, 2, lda, B, 2, ldb, beta, C, 2, ldc);
  const label = `gemm(transA=${tA}, transB=${tB}, M=${M}, N=${N}, K=${K}, alpha=${alpha}, beta=${beta}, offsets 2, lda=${lda}, ldb=${ldb}, ldc=${ldc}): C`;
  // compare the whole array: nothing outside C's [M, N] block may change
  const got: number[] = [], exp: number[] = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) { got.push(C[2 + i * ldc + j]!); exp.push(want[2 + i * ldc + j]!); }
  expectClose(label, got, exp, [M, N]);
  expectClose(`${label} (the whole array, padding included: write only C's [M, N] block)`, C.map((v, i) => (Number.isNaN(v) && Number.isNaN(want[i]!) ? 0 : v)), want.map((v, i) => (Number.isNaN(v) && Number.isNaN(C[i]!) ? 0 : v)));
}

export default defineExercise<Impl>({
  title: 'a gemm (three loops), plugged into a backend that trains a tiny MLP',
  cases: {
    'a 2×3 by 3×2 product, no transposes': ({ gemm }) => {
      const A = Float64Array.of(1, 2, 3, 4, 5, 6), B = Float64Array.of(1, 0, 0, 1, 1, 1), C = new Float64Array(4);
      gemm(false, false, 2, 2, 3, 1, A, 0, 3, B, 0, 2, 0, C, 0, 2);
      expectClose('gemm [[1,2,3],[4,5,6]]·[[1,0],[0,1],[1,1]]', C, [4, 5, 10, 11], [2, 2]);
    },
    'the four transpose cases, with offsets and leading dimensions': ({ gemm }) => {
      for (const tA of [false, true]) for (const tB of [false, true]) call(gemm, tA, tB, 3, 4, 5, 1, 0, 2);
    },
    'alpha and beta: C = alpha·AB + beta·C (and beta = 0 never reads C)': ({ gemm }) => {
      call(gemm, false, true, 2, 3, 4, 0.5, 2, 1);
      call(gemm, true, false, 4, 1, 3, -1, 0, 0);
    },
    'plugged into backend ex-gemm (ref with your gemm), a tiny MLP trains as on ref': async ({ gemm }) => {
      const be = backendWith('ex-gemm', {
        gemm: (tA, tB, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc) => gemm(tA, tB, M, N, K, alpha, arr(A), ao, lda, arr(B), bo, ldb, beta, arr(C), co, ldc),
      });
      expectSameTraining('backend ex-gemm (your gemm) vs ref', await trainTiny(be, { kind: 'mlp' }), await trainTiny('ref', { kind: 'mlp' }));
    },
  },
});
