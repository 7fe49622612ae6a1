// 2-D convolution (cross-correlation, as in every framework) as a tape op: the forward and
// its three gradients, computed by the backend's convolution kernels (the reference
// backend's im2col + gemm chunking and Winograd path: src/kernels/cpu/conv.ts).
// Shapes: x [N, C, H, W], w [K, C, R, S], b [K], y [N, K, P, Q].
//   dx = conv2dBackward's input gradient (the transposed convolution of dy)
//   dw = Σ_n dy[n] ⋆ x[n],   db = Σ_{N,P,Q} dy
import type { WindowGeometry } from '../../kernels/backend.js';
import { windowGeometry, type WindowOptions } from '../../kernels/geometry.js';
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { backendOf, commonDtype, dense, wrap } from './util.js';

/** Stride, padding and dilation of {@link conv2d} (a number, or [height, width]). */
export type Conv2dOptions = WindowOptions;

/** The validated window geometry (output size included) of a convolution of x [N, C, H, W] by w [K, C, R, S]. */
export function convGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions): WindowGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new ShapeError(`conv2d: expected x [N, C, H, W] and w [K, C, R, S], got x ${shapeStr(xShape)} and w ${shapeStr(wShape)}`);
  }
  const [, C, H, W] = xShape as [number, number, number, number];
  const [, Cw, R, S] = wShape as [number, number, number, number];
  if (C !== Cw) throw new ShapeError(`conv2d: input has ${C} channels but the weight ${shapeStr(wShape)} expects ${Cw} (x ${shapeStr(xShape)})`);
  return windowGeometry('conv2d', C, H, W, R, S, opts);
}

/** 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] by w [K, C, R, S], plus an optional bias b [K]; y [N, K, P, Q]; differentiable in x, w and b. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, w.shape, opts);
  const [N] = x.shape as [number];
  const K = w.shape[0]!;
  if (b && (b.ndim !== 1 || b.shape[0] !== K)) throw new ShapeError(`conv2d: bias of shape ${shapeStr(b.shape)} does not match ${K} output channels`);
  const dtype = b ? commonDtype('conv2d', x, w, b) : commonDtype('conv2d', x, w);
  const be = backendOf('conv2d', x, w, b);
  const xd = dense(x), wd = dense(w);
  const y = be.alloc(dtype, N * K * g.P * g.Q);
  be.conv2dForward(xd, N, wd, K, b ? dense(b) : null, g, y);
  const inputs = b ? [x, w, b] : [x, w];
  return record('conv2d', inputs, wrap(be, y, [N, K, g.P, g.Q]), (gy) => {
    const dx = x.requiresGrad ? be.alloc(dtype, x.size) : null;
    const dw = w.requiresGrad ? be.alloc(dtype, w.size) : null;
    const db = b?.requiresGrad ? be.alloc(dtype, K) : null;
    be.conv2dBackward(xd, N, wd, K, g, dense(gy), dx, dw, db);
    return [dx && wrap(be, dx, x.shape), dw && wrap(be, dw, w.shape), db && wrap(be, db, [K])];
  });
}
