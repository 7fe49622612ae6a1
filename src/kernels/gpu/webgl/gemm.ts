// gemm on the GPU backend, blocked to the device's index limit (trap 3 in device.ts): a
// product whose operands or output span more values than gpu.js indexes exactly is split
// in halves along its largest dimension until each block fits, then each block is one
// kernel whose result is placed into C.
import { gpuDevice, placeBlock, windowOf, type GpuBuffer } from './buffers.js';
import { idiv } from './sources/common.js';
import { gemmSource } from './sources/conv.js';

/** The arguments of Backend.gemm, with the buffers resolved. */
export interface GemmArgs {
  transA: boolean; transB: boolean; M: number; N: number; K: number; alpha: number;
  A: GpuBuffer; aOffset: number; lda: number;
  B: GpuBuffer; bOffset: number; ldb: number;
  beta: number; C: GpuBuffer; cOffset: number; ldc: number;
  /** A dense layer's epilogue: + bias[biasOffset + j] on every row, then the ReLU (Backend.linearForward). */
  bias?: GpuBuffer | null; biasOffset?: number; relu?: boolean;
}

/** What stands for A and B in a product over K = 0. */
const NO_OPERAND = new Float32Array(1);

/** How many values of A, B and C one product reads or writes from its offset. */
const spanA = (g: GemmArgs): number => (g.transA ? (g.K - 1) * g.lda + g.M : (g.M - 1) * g.lda + g.K);
const spanB = (g: GemmArgs): number => (g.transB ? (g.N - 1) * g.ldb + g.K : (g.K - 1) * g.ldb + g.N);
const spanC = (g: GemmArgs): number => (g.M - 1) * g.ldc + g.N;

/** C = alpha·op(A)·op(B) + beta·C, in blocks that fit the index limit. */
export function gemmBlocked(g: GemmArgs): void {
  if (g.M === 0 || g.N === 0) return;
  const lim = gpuDevice().indexLimit;
  const fits = g.M * g.N <= lim && spanC(g) <= lim && (g.K === 0 || (spanA(g) <= lim && spanB(g) <= lim));
  if (!fits) {
    // Split the largest dimension in two (K: the second half accumulates onto the first).
    if (g.K >= g.M && g.K >= g.N && g.K > 1 && (spanA(g) > lim || spanB(g) > lim)) {
      splitK(g);
      return;
    }
    // M first when the output is too long: row blocks of C stay contiguous (one splice on GL).
    if (g.M > 1 && (g.M >= g.N || spanC(g) > lim || g.M * g.N > lim)) {
      const m1 = g.M >> 1;
      gemmBlocked({ ...g, M: m1 });
      gemmBlocked({ ...g, M: g.M - m1, aOffset: g.aOffset + (g.transA ? m1 : m1 * g.lda), cOffset: g.cOffset + m1 * g.ldc });
      return;
    }
    if (g.N > 1) {
      const n1 = g.N >> 1;
      gemmBlocked({ ...g, N: n1 });
      gemmBlocked({ ...g, N: g.N - n1, bOffset: g.bOffset + (g.transB ? n1 * g.ldb : n1), cOffset: g.cOffset + n1, biasOffset: (g.biasOffset ?? 0) + n1 });
      return;
    }
    if (g.K > 1) {
      splitK(g);
      return;
    }
  }
  // K = 0: the kernel reads no value of A or B, but gpu.js needs an argument that has one (A and B may be empty)
  const nothing = { storage: NO_OPERAND, offset: 0 };
  const a = g.K === 0 ? nothing : windowOf(g.A.storage, g.aOffset, spanA(g)), b = g.K === 0 ? nothing : windowOf(g.B.storage, g.bOffset, spanB(g));
  const withC = g.beta !== 0;
  const c = windowOf(g.C.storage, g.cOffset, spanC(g));
  const consts = { M: g.M, N: g.N, K: g.K, alpha: g.alpha, beta: g.beta, ao: a.offset, lda: g.lda, bo: b.offset, ldb: g.ldb, co: c.offset, ldc: g.ldc };
  const args = withC ? [a.storage, b.storage, c.storage] : [a.storage, b.storage];
  let bio = 0;
  if (g.bias) {
    const w = windowOf(g.bias.storage, g.biasOffset ?? 0, g.N);
    args.push(w.storage);
    bio = w.offset;
  }
  const source = gemmSource(g.transA, g.transB, withC, !!g.bias, g.relu === true);
  const r = gpuDevice().run('gemm', source, g.M * g.N, { ...consts, bio }, args, [idiv]);
  placeBlock(g.C, r, g.cOffset, g.M, g.N, g.ldc);
}

/** The product as two halves of K, the second accumulating onto the first (the epilogue on the second only). */
function splitK(g: GemmArgs): void {
  const k1 = g.K >> 1;
  gemmBlocked({ ...g, K: k1, bias: null, relu: false });
  gemmBlocked({ ...g, K: g.K - k1, beta: 1, aOffset: g.aOffset + (g.transA ? k1 * g.lda : k1), bOffset: g.bOffset + (g.transB ? k1 : k1 * g.ldb) });
}
