// Softmax and log-softmax of each row of x [rows, cols], numerically stable (the backend
// subtracts the row max), written once for the tape's softmax/logSoftmax ops
// (src/autograd/ops/softmax.ts) and the forward of neon's Softmax activation. Backward:
//   with y = softmax(x):     dx = y ⊙ (g − Σ_row g ⊙ y)
//   with l = logSoftmax(x):  dx = g − softmax(x) ⊙ Σ_row g
// (neon's Softmax layer skips this backward: the cost hands it the gradient at its input.)
import type { Backend, DeviceBuffer } from '../../kernels/backend.js';
import type { DType, Tensor } from '../../tensor/tensor.js';
import { dense, wrap } from '../ops/util.js';

/** What the backward reads: the output y and the row layout. */
export interface SoftmaxSaved {
  readonly be: Backend;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly y: DeviceBuffer;
  readonly rows: number;
  readonly cols: number;
  readonly log: boolean;
}

/** y = softmax (or log-softmax) of each of the `rows` rows of x, viewed as [rows, cols]. */
export function softmaxForward(be: Backend, x: Tensor, rows: number, cols: number, log: boolean): { y: Tensor; saved: SoftmaxSaved } {
  const y = be.alloc(x.dtype, x.size);
  be.softmax(dense(x), rows, cols, log, y);
  return { y: wrap(be, y, x.shape), saved: { be, dtype: x.dtype, shape: x.shape, y, rows, cols, log } };
}

/** dx for dy, both shaped as x. */
export function softmaxBackward(s: SoftmaxSaved, dy: Tensor): Tensor {
  const dx = s.be.alloc(s.dtype, s.rows * s.cols);
  s.be.softmaxBackward(s.y, dense(dy), s.rows, s.cols, s.log, dx);
  return wrap(s.be, dx, s.shape);
}
