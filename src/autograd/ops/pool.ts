// Max and average pooling over x [N, C, H, W] as tape ops: validate, run the forward of
// src/autograd/functions/pool.ts and record its backward (the math is written there, once,
// for these ops and for neon's Pooling layer). neon's default stride is the window size.
import type { Pair } from '../../kernels/geometry.js';
import type { WindowGeometry } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { pool2dBackward, pool2dForward, poolWindow, type PoolOp } from '../functions/pool.js';

/** Window, stride, padding (and the divisor rule of average pooling) of the pooling ops. */
export interface Pool2dOptions {
  kernel: Pair;
  /** Defaults to the kernel size, as in neon and PyTorch. */
  stride?: Pair;
  padding?: Pair;
  /** Average pooling only: count padded zeros in the divisor (PyTorch's default). */
  countIncludePad?: boolean;
}

/** The validated window geometry (output size included) of pooling x [N, C, H, W]. */
export function poolGeometry(op: string, xShape: readonly number[], opts: Pool2dOptions): WindowGeometry {
  if (xShape.length !== 4) throw new ShapeError(`${op}: expected x [N, C, H, W], got ${shapeStr(xShape)}`);
  const [, C, H, W] = xShape as [number, number, number, number];
  return poolWindow(op, C, H, W, opts.kernel, opts);
}

function pool(op: PoolOp, name: string, x: Tensor, opts: Pool2dOptions): Tensor {
  const g = poolGeometry(name, x.shape, opts);
  const { y, saved } = pool2dForward(x.backend, op, x, g, opts.countIncludePad ?? true);
  return record(name, [x], y, (gy) => [pool2dBackward(saved, gy)]);
}

/** Max pooling over each channel of x [N, C, H, W]; the gradient goes to the element that won each window. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return pool('max', 'maxPool2d', x, opts);
}

/** Average pooling over each channel of x [N, C, H, W]. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return pool('avg', 'avgPool2d', x, opts);
}
