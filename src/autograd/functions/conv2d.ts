// 2-D convolution (cross-correlation, as in every framework), written once: the forward
// and its three gradients over one backend, computed by the backend's convolution kernels
// (the reference's direct loops, src/kernels/cpu/ref/conv.ts; the default backend's im2col
// + gemm chunking and Winograd, src/kernels/cpu/simd/conv.ts).
// The tape's op conv2d (src/autograd/ops/conv.ts) and neon's Convolution layer
// (src/layers/convolution.ts) both call these two functions.
// Shapes: x [N, C, H, W], w [K, C, R, S], b [K], y [N, K, P, Q].
//   dx = the transposed convolution of dy       (overwritten)
//   dw = Σ_n dy[n] ⋆ x[n],   db = Σ_{N,P,Q} dy   (summed into their targets)
import type { Backend, DeviceBuffer, WindowGeometry } from '../../kernels/backend.js';
import type { DType, Tensor } from '../../tensor/tensor.js';
import { sizeOf } from '../../tensor/shape.js';
import { dense, gradTarget, wrap, type GradTarget } from '../ops/util.js';

/** What the backward reads from the forward: its input and weight (dense buffers) and the geometry. */
export interface Conv2dSaved {
  readonly be: Backend;
  readonly dtype: DType;
  readonly x: DeviceBuffer;
  readonly xShape: readonly number[];
  readonly w: DeviceBuffer;
  readonly wShape: readonly number[];
  readonly g: WindowGeometry;
}

/**
 * y = conv(x, w) (+ b) on backend `be`, with g the validated geometry, then max(0, ·) when
 * `relu` (the fused epilogue: the backward of that ReLU reads y, and is its caller's); and
 * what the convolution's backward needs.
 */
export function conv2dForward(be: Backend, x: Tensor, w: Tensor, b: Tensor | null, g: WindowGeometry, relu = false): { y: Tensor; saved: Conv2dSaved } {
  const N = x.shape[0]!, K = w.shape[0]!;
  const xd = dense(x), wd = dense(w);
  const y = be.alloc(x.dtype, N * K * g.P * g.Q);
  be.conv2dForward(xd, N, wd, K, b ? dense(b) : null, g, y, relu);
  return { y: wrap(be, y, [N, K, g.P, g.Q]), saved: { be, dtype: x.dtype, x: xd, xShape: x.shape, w: wd, wShape: w.shape, g } };
}

/**
 * The gradients for dy [N, K, P, Q]: dx when wanted (a new tensor), dw and db each skipped,
 * new, or summed into the tensor given (a layer zeroes its Param.grad first to overwrite it).
 */
export function conv2dBackward(s: Conv2dSaved, dy: Tensor, want: { dx: boolean; dw: GradTarget; db: GradTarget }): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const { be, g } = s;
  const N = s.xShape[0]!, K = s.wShape[0]!;
  const dx = want.dx ? be.alloc(s.dtype, sizeOf(s.xShape)) : null;
  const dw = gradTarget(be, want.dw, s.dtype, s.wShape);
  const db = gradTarget(be, want.db, s.dtype, [K]);
  if (dx || dw || db) be.conv2dBackward(s.x, N, s.w, K, g, dense(dy), dx, dw && dw.storage, db && db.storage);
  return { dx: dx && wrap(be, dx, s.xShape), dw, db };
}
