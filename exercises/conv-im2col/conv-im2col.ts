// Exercise conv-im2col: your work. See README.md; run `npm run exercise conv-im2col`.
import type { Tensor } from '../../src/index.js';

export interface ConvOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
}

/**
 * y[N, K, P, Q] = the convolution (cross-correlation) of x[N, C, H, W] with w[K, C, R, S],
 * computed with the backend's im2col and gemm kernels only, one image at a time.
 */
export function conv2dIm2col(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  throw new Error(`TODO: convolve x [${x.shape.join(', ')}] with w [${w.shape.join(', ')}] (${JSON.stringify(opts)})`);
}
