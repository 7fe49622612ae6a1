// Matrix product of 2-D tensors as a tape op; the product itself (mm, through the
// backend's gemm) is src/autograd/functions/matmul.ts.
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { matmulBackward, mm } from '../functions/matmul.js';

export { mm } from '../functions/matmul.js';

/** Matrix product of the last two axes, broadcasting leading (batch) axes; differentiable. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)} by ${shapeStr(b.shape)} (need [M, K] · [K, N])`);
  }
  const out = mm(a, b);
  const backward = matmulBackward(); // the one in force when the op was recorded (the track's seam)
  return record('matmul', [a, b], out, (g) => backward(a, b, g));
}
