// Elementwise functions (the activations among them), written once for the tape's unary ops
// (relu, logistic, tanh, exp, ... in src/autograd/ops/elementwise.ts) and neon's Activation
// layer (src/layers/activation.ts):
//   y = f(x),   dx = dy · f'(x)
// with f' computed from the input x or the output y, as UNARY_BACKWARD_READS says for each
// f (ReLU's, the logistic's and tanh's from y, as neon does); only that one is kept.
import { UNARY_BACKWARD_READS, type Backend, type DeviceBuffer, type UnaryOp } from '../../kernels/backend.js';
import type { DType, Tensor } from '../../tensor/tensor.js';
import { dense, empty } from '../ops/util.js';

/** What the backward reads: the input or the output, whichever f' is computed from (or neither). */
export interface UnarySaved {
  readonly be: Backend;
  readonly op: UnaryOp;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly x: DeviceBuffer | null;
  readonly y: DeviceBuffer | null;
}

/** y = f(x) elementwise on backend `be`. */
export function unaryForward(be: Backend, op: UnaryOp, x: Tensor): { y: Tensor; saved: UnarySaved } {
  const xd = dense(x);
  const y = empty(be, x.dtype, x.shape);
  be.unary(op, xd, y.storage, x.size);
  const reads = UNARY_BACKWARD_READS[op];
  return { y, saved: { be, op, dtype: x.dtype, shape: x.shape, x: reads === 'x' ? xd : null, y: reads === 'y' ? y.storage : null } };
}

/** What the backward of y = f(x) keeps when f's forward ran elsewhere (a fused epilogue) and f' reads the output y. */
export function unaryOutputSaved(be: Backend, op: UnaryOp, y: Tensor): UnarySaved {
  if (UNARY_BACKWARD_READS[op] !== 'y') throw new Error(`unary '${op}': its derivative is not read from its output`);
  return { be, op, dtype: y.dtype, shape: y.shape, x: null, y: dense(y) };
}

/** dx = dy · f'. */
export function unaryBackward(s: UnarySaved, dy: Tensor): Tensor {
  const dx = empty(s.be, s.dtype, s.shape);
  s.be.unaryBackward(s.op, s.x, s.y, dense(dy), dx.storage, dx.size);
  return dx;
}
