// Bias over the channel axis, written once for the tape's biasAdd op (src/autograd/ops/bias.ts)
// and neon's Bias layer (src/layers/bias.ts):
//   y = x + b   x [N, C, ...spatial], b [C] broadcast over the batch and space
//   dx = dy,    db = Σ over batch and space of dy
import type { Backend } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { dense, gradTarget, wrap, type GradTarget } from '../ops/util.js';

/** [N, C, HW] of a tensor [N, C, ...spatial]: the kernels' view of it. */
function dims(t: Tensor): [number, number, number] {
  const N = t.shape[0]!, C = t.shape[1]!;
  return [N, C, t.size / Math.max(N * C, 1)];
}

/** y = x + b on backend `be`. */
export function biasForward(be: Backend, x: Tensor, b: Tensor): Tensor {
  const [N, C, HW] = dims(x);
  const y = be.alloc(x.dtype, x.size);
  be.biasAdd(dense(x), dense(b), N, C, HW, y);
  return wrap(be, y, x.shape);
}

/** db for dy (new, or overwriting the tensor given); dx is dy itself. */
export function biasBackward(be: Backend, dy: Tensor, db: Exclude<GradTarget, false>): Tensor {
  const [N, C, HW] = dims(dy);
  const out = gradTarget(be, db, dy.dtype, [C])!;
  be.biasBackward(dense(dy), N, C, HW, out.storage, false);
  return out;
}
