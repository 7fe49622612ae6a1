// The convolution's epilogue in the fast backend: the bias and the ReLU applied to output
// planes y[n, k] (P·Q values each) right after a chunk of images has been written by the
// gemm or the Winograd output transform, while those planes are still in cache, instead of
// separate biasAdd and unary('relu') passes over the whole output later. The values are
// theirs bit for bit: the stored sum plus the bias, stored, then the ReLU of that
// (./relu.ts, NaN passing through).
import type { FloatArray } from '../../backend.js';
import { reluForward } from './relu.js';

/** What a convolution applies to its output: a bias b[K] (or none) and whether a ReLU follows. */
export interface ConvEpilogue {
  b: FloatArray | null;
  relu: boolean;
}

/** y[n, k] += b[k], then max(0, ·) when relu, for images n0 ≤ n < n1 of y[N, K, PQ]. */
export function applyEpilogue(y: FloatArray, n0: number, n1: number, K: number, PQ: number, e: ConvEpilogue): void {
  const { b, relu } = e;
  if (!b && !relu) return;
  for (let n = n0; n < n1; n++) {
    for (let k = 0; k < K; k++) {
      const o = (n * K + k) * PQ;
      if (b) {
        const bk = b[k]!;
        for (let i = o; i < o + PQ; i++) y[i] = y[i]! + bk;
      }
      if (!relu) continue;
      if (y instanceof Float32Array) reluForward(y.subarray(o, o + PQ), y.subarray(o, o + PQ), PQ);
      else for (let i = o; i < o + PQ; i++) { const v = y[i]!; y[i] = v > 0 || v !== v ? v : 0; }
    }
  }
}
