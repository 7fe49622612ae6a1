// Max and average pooling over x [N, C, H, W], written once: the window's validation, the
// forward and the backward over one backend. The tape's ops maxPool2d/avgPool2d
// (src/autograd/ops/pool.ts) and neon's Pooling layer (src/layers/pooling.ts) call these.
//   max: y = the largest element of each window; dx += dy at the element that won (argmax)
//   avg: y = the window's mean; dx += dy / divisor spread over the window
//        (the divisor counts padded zeros when countPad, neon's and PyTorch's default)
import type { Backend, DeviceBuffer, WindowGeometry } from '../../kernels/backend.js';
import { windowGeometry, type Pair } from '../../kernels/geometry.js';
import type { DType, Tensor } from '../../tensor/tensor.js';
import { sizeOf } from '../../tensor/shape.js';
import { ValueError } from '../../util/errors.js';
import { dense, wrap } from '../ops/util.js';

/** Max or average pooling. */
export type PoolOp = 'max' | 'avg';

/**
 * The validated geometry of a pooling window R×S over a C×H×W image, the stride defaulting
 * to the window (neon, PyTorch). The padding may be at most half the window, so that every
 * window holds at least one input element. `who` prefixes the messages (the op's name, or
 * the layer's); `strideName` names the stride option in them.
 */
export function poolWindow(who: string, C: number, H: number, W: number, kernel: Pair, opts: { stride?: Pair; padding?: Pair }, strideName = 'stride'): WindowGeometry {
  const [R, S] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  const g = windowGeometry(who, C, H, W, R, S, { stride: opts.stride ?? [R, S], padding: opts.padding }, 1, strideName);
  if (g.padH * 2 > R || g.padW * 2 > S) throw new ValueError(`${who}: padding ${g.padH},${g.padW} must be at most half the kernel ${R}×${S}`);
  return g;
}

/** What the backward reads: the geometry, the input's shape and, for max pooling, the argmax (int32). */
export interface PoolSaved {
  readonly be: Backend;
  readonly op: PoolOp;
  readonly dtype: DType;
  readonly xShape: readonly number[];
  readonly g: WindowGeometry;
  readonly countPad: boolean;
  readonly argmax: DeviceBuffer | null;
}

/**
 * y [N, C, P, Q] pooled from x [N, C, H, W] on backend `be`. Max pooling reuses `prev`'s
 * argmax buffer when it has the size needed and lives on `be` (a layer's from its last batch).
 */
export function pool2dForward(be: Backend, op: PoolOp, x: Tensor, g: WindowGeometry, countPad = true, prev: PoolSaved | null = null): { y: Tensor; saved: PoolSaved } {
  const N = x.shape[0]!;
  const n = N * g.C * g.P * g.Q;
  const y = be.alloc(x.dtype, n);
  let argmax: DeviceBuffer | null = null;
  if (op === 'max') {
    argmax = prev?.argmax && prev.be === be && be.lengthOf(prev.argmax) === n ? prev.argmax : be.allocIndex(n);
    be.maxPoolForward(dense(x), N, g, y, argmax);
  } else {
    be.avgPoolForward(dense(x), N, g, countPad, y);
  }
  return { y: wrap(be, y, [N, g.C, g.P, g.Q]), saved: { be, op, dtype: x.dtype, xShape: x.shape, g, countPad, argmax } };
}

/** dx [N, C, H, W] for dy [N, C, P, Q]. */
export function pool2dBackward(s: PoolSaved, dy: Tensor): Tensor {
  const { be, g } = s;
  const N = s.xShape[0]!;
  const dx = be.alloc(s.dtype, sizeOf(s.xShape));
  if (s.op === 'max') be.maxPoolBackward(dense(dy), s.argmax!, N, g, dx);
  else be.avgPoolBackward(dense(dy), N, g, s.countPad, dx);
  return wrap(be, dx, s.xShape);
}
