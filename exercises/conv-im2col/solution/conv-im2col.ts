// Exercise conv-im2col: a reference solution.
import { contiguous, Tensor, type WindowGeometry } from '../../../src/index.js';

export interface ConvOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
}

/**
 * y[N, K, P, Q] = W[K, C·R·S] · cols[C·R·S, P·Q] for each image, where cols = im2col(x[n]).
 * Only the backend's kernels touch the values: im2col writes the patches, gemm multiplies.
 */
export function conv2dIm2col(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [K, Cw, R, S] = w.shape as [number, number, number, number];
  if (C !== Cw) throw new Error(`conv2dIm2col: x has ${C} channels, w expects ${Cw}`);
  const stride = opts.stride ?? 1, pad = opts.padding ?? 0, dil = opts.dilation ?? 1;
  // The output size: the dilated window spans dil·(R − 1) + 1 rows of the padded input.
  const P = Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1;
  const Q = Math.floor((W + 2 * pad - dil * (S - 1) - 1) / stride) + 1;
  const g: WindowGeometry = { C, H, W, R, S, strideH: stride, strideW: stride, padH: pad, padW: pad, dilH: dil, dilW: dil, P, Q };

  const be = x.backend;
  const xc = contiguous(x), wc = contiguous(w); // the kernels read row-major data from an offset
  const CRS = C * R * S, PQ = P * Q;
  const cols = be.alloc(x.dtype, CRS * PQ);
  const y = be.alloc(x.dtype, N * K * PQ);
  for (let n = 0; n < N; n++) {
    be.im2col(xc.storage, xc.offset + n * C * H * W, g, cols);
    // y[n] (K × PQ) = W (K × CRS) · cols (CRS × PQ), beta 0: overwrite.
    be.gemm(false, false, K, PQ, CRS, 1, wc.storage, wc.offset, CRS, cols, 0, PQ, 0, y, n * K * PQ, PQ);
  }
  return new Tensor(y, [N, K, P, Q], undefined, 0, be);
}
