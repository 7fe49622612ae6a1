// 2-D convolution (cross-correlation, as in every framework), computed directly: each
// output is the sum over its window, in a JavaScript number (float64), as one checks it
// by hand. Shapes: x [N, C, H, W], w [K, C, R, S], b [K], y [N, K, P, Q]; output pixel
// (p, q) reads input pixel h = p·strideH − padH + r·dilH, w = q·strideW − padW + s·dilW
// for each filter tap (r, s), zero where that falls in the padding.
//   y[n, k, p, q]  = b[k] + Σ_{c, r, s} x[n, c, h, w] · w[k, c, r, s]
//   dx[n, c, h, w] = Σ_{k, r, s} dy[n, k, p, q] · w[k, c, r, s]   over the (p, q) that read (h, w)
//   dw[k, c, r, s] += Σ_{n, p, q} dy[n, k, p, q] · x[n, c, h, w]
//   db[k]          += Σ_{n, p, q} dy[n, k, p, q]
// conv2dIm2col is the same forward as im2col + gemm, the way fast backends compute it
// (src/kernels/cpu/simd/conv.ts adds chunking and Winograd); a test holds it to the direct one.
import type { FloatArray, WindowGeometry } from '../../backend.js';
import { biasAdd, biasBackward } from './bias.js';
import { gemm } from './gemm.js';
import { im2col } from './im2col.js';

/**
 * The outputs [o0, o1) of a row (or column) of `outs` outputs whose tap reads inside the
 * `size` input pixels: output o reads pixel o·stride + shift, and 0 ≤ o·stride + shift < size.
 * Taps outside are the zero padding and add nothing.
 */
function inside(outs: number, size: number, stride: number, shift: number): [number, number] {
  const o0 = Math.max(0, Math.ceil(-shift / stride));
  const o1 = Math.min(outs, Math.floor((size - 1 - shift) / stride) + 1);
  return [o0, Math.max(o0, o1)];
}

/**
 * y[N, K, P, Q] = conv(x, w) (+ b), then max(0, ·) when `relu`. Each output plane y[n, k] is
 * summed in float64 (acc), one filter tap (c, r, s) at a time over all its pixels: the same
 * sum, term for term and in the same order (c, r, s), as computing each output alone, with
 * the long loop over q innermost. The sum is stored (rounded to y's type) before the bias
 * is added, and the biased value stored before the ReLU: the same values as the separate
 * Bias and Activation layers would give.
 */
export function conv2dForward(x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry, y: FloatArray, relu = false): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  const acc = new Float64Array(P * Q);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      acc.fill(0);
      for (let c = 0; c < C; c++) {
        for (let r = 0; r < R; r++) {
          for (let s = 0; s < S; s++) {
            const tap = w[((k * C + c) * R + r) * S + s]!;
            const [p0, p1] = inside(P, H, strideH, r * dilH - padH), [q0, q1] = inside(Q, W, strideW, s * dilW - padW);
            for (let p = p0; p < p1; p++) {
              const row = ((n * C + c) * H + p * strideH - padH + r * dilH) * W - padW + s * dilW;
              for (let q = q0; q < q1; q++) acc[p * Q + q] += x[row + q * strideW]! * tap;
            }
          }
        }
      }
      const out = (n * K + k) * P * Q;
      for (let i = 0; i < P * Q; i++) {
        y[out + i] = acc[i]!;
        if (b) y[out + i] = y[out + i]! + b[k]!;
        // as unary('relu'): NaN passes through, so a divergence is never hidden
        if (relu && !(y[out + i]! > 0) && y[out + i] === y[out + i]) y[out + i] = 0;
      }
    }
  }
}

/**
 * Gradients of a convolution: any of dx, dw, db may be null (not wanted). dw and db are
 * accumulated (+=) over the batch; dx is overwritten.
 */
export function conv2dBackward(
  x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray,
  dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null,
): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  if (dx) {
    // Input pixel (h, wi) gets dy[n, k, p, q]·w[k, c, r, s] from every output (p, q) whose tap
    // (r, s) read it: h = p·strideH − padH + r·dilH, wi = q·strideW − padW + s·dilW. Each
    // plane dx[n, c] is summed in float64, one (k, r, s) at a time, the forward's loops run
    // backwards: every input pixel gets its terms in (k, r, s) order.
    const acc = new Float64Array(H * W);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        acc.fill(0);
        for (let k = 0; k < K; k++) {
          for (let r = 0; r < R; r++) {
            for (let s = 0; s < S; s++) {
              const tap = w[((k * C + c) * R + r) * S + s]!;
              const [p0, p1] = inside(P, H, strideH, r * dilH - padH), [q0, q1] = inside(Q, W, strideW, s * dilW - padW);
              for (let p = p0; p < p1; p++) {
                const row = ((n * K + k) * P + p) * Q, at = (p * strideH - padH + r * dilH) * W - padW + s * dilW;
                for (let q = q0; q < q1; q++) acc[at + q * strideW] += dy[row + q]! * tap;
              }
            }
          }
        }
        dx.set(acc, (n * C + c) * H * W);
      }
    }
  }
  if (dw) {
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < C; c++) {
        for (let r = 0; r < R; r++) {
          for (let s = 0; s < S; s++) {
            let sum = 0;
            for (let n = 0; n < N; n++) {
              for (let p = 0; p < P; p++) {
                const h = p * strideH - padH + r * dilH;
                if (h < 0 || h >= H) continue;
                for (let q = 0; q < Q; q++) {
                  const wi = q * strideW - padW + s * dilW;
                  if (wi < 0 || wi >= W) continue;
                  sum += dy[((n * K + k) * P + p) * Q + q]! * x[((n * C + c) * H + h) * W + wi]!;
                }
              }
            }
            dw[((k * C + c) * R + r) * S + s]! += sum;
          }
        }
      }
    }
  }
  if (db) biasBackward(dy, N, K, P * Q, db, true);
}

/**
 * The forward convolution through im2col + gemm, one image at a time: cols[C·R·S, P·Q] =
 * im2col(x[n]), y[n] as [K, P·Q] = w as [K, C·R·S] · cols, then the bias. The same values
 * as conv2dForward up to the order of the sums.
 */
export function conv2dIm2col(x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry, y: FloatArray): void {
  const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
  const cols = x instanceof Float64Array ? new Float64Array(CRS * PQ) : new Float32Array(CRS * PQ);
  for (let n = 0; n < N; n++) {
    im2col(x, n * CHW, g, cols);
    gemm(false, false, K, PQ, CRS, 1, w, 0, CRS, cols, 0, PQ, 0, y, n * K * PQ, PQ);
  }
  if (b) biasAdd(y, b, N, K, PQ, y);
}
