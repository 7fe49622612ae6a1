// Bias over the channel axis as a tape op: x [N, C, ...spatial] + b [C]. The forward and
// db = Σ over batch and space are src/autograd/functions/bias.ts (shared with neon's Bias layer).
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { biasBackward, biasForward } from '../functions/bias.js';
import { backendOf, commonDtype } from './util.js';

/** x + b with b broadcast over every axis but the channel axis 1 (one value per channel or unit); differentiable in both. */
export function biasAdd(x: Tensor, b: Tensor): Tensor {
  if (x.ndim < 2 || b.ndim !== 1 || b.shape[0] !== x.shape[1]) {
    throw new ShapeError(`biasAdd: bias ${shapeStr(b.shape)} does not match the channels of x ${shapeStr(x.shape)} (need x [N, C, ...] and b [C])`);
  }
  commonDtype('biasAdd', x, b);
  const be = backendOf('biasAdd', x, b);
  return record('biasAdd', [x, b], biasForward(be, x, b), (g) => [g, biasBackward(be, g, true)]);
}
