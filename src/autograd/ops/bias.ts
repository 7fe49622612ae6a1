// Bias over the channel axis: x [N, C, ...spatial] + b [C]. db = Σ over batch and space.
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { backendOf, commonDtype, dense, wrap } from './util.js';

/** x + b with b broadcast over every axis but the channel axis 1 (one value per channel or unit); differentiable in both. */
export function biasAdd(x: Tensor, b: Tensor): Tensor {
  if (x.ndim < 2 || b.ndim !== 1 || b.shape[0] !== x.shape[1]) {
    throw new ShapeError(`biasAdd: bias ${shapeStr(b.shape)} does not match the channels of x ${shapeStr(x.shape)} (need x [N, C, ...] and b [C])`);
  }
  const dtype = commonDtype('biasAdd', x, b);
  const [N, C] = x.shape as [number, number];
  const HW = x.size / Math.max(N * C, 1);
  const be = backendOf('biasAdd', x, b);
  const y = be.alloc(dtype, x.size);
  be.biasAdd(dense(x), dense(b), N, C, HW, y);
  return record('biasAdd', [x, b], wrap(be, y, x.shape), (g) => {
    const db = be.alloc(dtype, C);
    be.biasBackward(dense(g), N, C, HW, db, false);
    return [g, wrap(be, db, [C])];
  });
}
