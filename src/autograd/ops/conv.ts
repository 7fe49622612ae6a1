// 2-D convolution as a tape op: validate the shapes, run the forward of
// src/autograd/functions/conv2d.ts and record its backward (the math is written there,
// once, for this op and for neon's Convolution layer).
// Shapes: x [N, C, H, W], w [K, C, R, S], b [K], y [N, K, P, Q].
import type { WindowGeometry } from '../../kernels/backend.js';
import { windowGeometry, type WindowOptions } from '../../kernels/geometry.js';
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { conv2dBackward, conv2dForward } from '../functions/conv2d.js';
import { backendOf, commonDtype } from './util.js';

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
  const K = w.shape[0]!;
  if (b && (b.ndim !== 1 || b.shape[0] !== K)) throw new ShapeError(`conv2d: bias of shape ${shapeStr(b.shape)} does not match ${K} output channels`);
  const inputs = b ? [x, w, b] : [x, w];
  commonDtype('conv2d', ...inputs);
  const be = backendOf('conv2d', ...inputs);
  const { y, saved } = conv2dForward(be, x, w, b, g);
  return record('conv2d', inputs, y, (gy) => {
    const { dx, dw, db } = conv2dBackward(saved, gy, { dx: x.requiresGrad, dw: w.requiresGrad, db: b?.requiresGrad ?? false });
    return [dx, dw, db];
  });
}
