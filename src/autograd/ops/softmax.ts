// Softmax and log-softmax along an axis, numerically stable (the backend subtracts the
// row max). Backward, with y = softmax(x):   dx = y ⊙ (g − Σ_axis g ⊙ y)
//                 with l = logSoftmax(x):    dx = g − softmax(x) ⊙ Σ_axis g
import type { Tensor } from '../../tensor/tensor.js';
import { normalizeAxis } from '../../tensor/shape.js';
import { record } from '../graph.js';
import { permute } from './shape.js';
import { dense, wrap } from './util.js';

function lastAxisSoftmax(x: Tensor, log: boolean): Tensor {
  const cols = x.shape[x.ndim - 1] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  const be = x.backend;
  const y = be.alloc(x.dtype, x.size);
  be.softmax(dense(x), rows, cols, log, y);
  return record(log ? 'logSoftmax' : 'softmax', [x], wrap(be, y, x.shape), (g) => {
    const dx = be.alloc(x.dtype, x.size);
    be.softmaxBackward(y, dense(g), rows, cols, log, dx);
    return [wrap(be, dx, x.shape)];
  });
}

function alongAxis(x: Tensor, axis: number, log: boolean): Tensor {
  const a = normalizeAxis(axis, x.ndim, log ? 'logSoftmax' : 'softmax');
  if (a === x.ndim - 1) return lastAxisSoftmax(x, log);
  // Move the axis last, apply, move it back (views; the permuted input is copied once).
  const order = Array.from({ length: x.ndim }, (_, k) => k).filter((k) => k !== a);
  order.push(a);
  const inverse = new Array<number>(x.ndim);
  order.forEach((src, i) => (inverse[src] = i));
  return permute(lastAxisSoftmax(permute(x, order), log), inverse);
}

/** Softmax along `axis` (the last by default), computed stably; differentiable. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, false);
}

/** log(softmax(x)) along `axis`, computed stably; differentiable. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, true);
}
