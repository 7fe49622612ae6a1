// Max and average pooling over x [N, C, H, W]. neon's default stride is the window size.
import { windowGeometry, type Pair } from '../../kernels/geometry.js';
import type { WindowGeometry } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError, ValueError } from '../../util/errors.js';
import { record } from '../graph.js';
import { dense, wrap } from './util.js';

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
  const [R, S] = typeof opts.kernel === 'number' ? [opts.kernel, opts.kernel] : opts.kernel;
  const g = windowGeometry(op, C, H, W, R, S, { stride: opts.stride ?? [R, S], padding: opts.padding });
  if (g.padH * 2 > R || g.padW * 2 > S) throw new ValueError(`${op}: padding ${g.padH},${g.padW} must be at most half the kernel ${R}×${S}`);
  return g;
}

/** Max pooling over each channel of x [N, C, H, W]; the gradient goes to the element that won each window. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = poolGeometry('maxPool2d', x.shape, opts);
  const N = x.shape[0]!;
  const be = x.backend;
  const n = N * g.C * g.P * g.Q;
  const y = be.alloc(x.dtype, n);
  const argmax = be.allocIndex(n);
  be.maxPoolForward(dense(x), N, g, y, argmax);
  return record('maxPool2d', [x], wrap(be, y, [N, g.C, g.P, g.Q]), (gy) => {
    const dx = be.alloc(x.dtype, x.size);
    be.maxPoolBackward(dense(gy), argmax, N, g, dx);
    return [wrap(be, dx, x.shape)];
  });
}

/** Average pooling over each channel of x [N, C, H, W]. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = poolGeometry('avgPool2d', x.shape, opts);
  const N = x.shape[0]!;
  const countPad = opts.countIncludePad ?? true;
  const be = x.backend;
  const y = be.alloc(x.dtype, N * g.C * g.P * g.Q);
  be.avgPoolForward(dense(x), N, g, countPad, y);
  return record('avgPool2d', [x], wrap(be, y, [N, g.C, g.P, g.Q]), (gy) => {
    const dx = be.alloc(x.dtype, x.size);
    be.avgPoolBackward(dense(gy), N, g, countPad, dx);
    return [wrap(be, dx, x.shape)];
  });
}
