// A dense layer's forward, the textbook way: the product, then the bias, then the ReLU, each
// over the whole output as its own kernel (the fast and GPU backends do the last two in the
// gemm's output pass and are held to these bits).
//   y[N, nout] = x[N, nin] · w[nout, nin]ᵀ (+ b[nout] on every row), then max(0, ·) when relu
import type { FloatArray } from '../../backend.js';
import { biasAdd } from './bias.js';
import { unary } from './elementwise.js';
import { gemm } from './gemm.js';

export function linearForward(x: FloatArray, N: number, nin: number, w: FloatArray, nout: number, b: FloatArray | null, y: FloatArray, relu: boolean): void {
  gemm(false, true, N, nout, nin, 1, x, 0, nin, w, 0, nin, 0, y, 0, nout);
  if (b) biasAdd(y, b, N, nout, 1, y);
  if (relu) unary('relu', y, y, N * nout);
}
