// Softmax and log-softmax along an axis as tape ops. The row-wise math (stable forward,
// backward dx = y ⊙ (g − Σ g ⊙ y), or g − softmax(x) ⊙ Σ g for the log) is
// src/autograd/functions/softmax.ts; here the axis is moved last and back.
import type { Tensor } from '../../tensor/tensor.js';
import { normalizeAxis } from '../../tensor/shape.js';
import { record } from '../graph.js';
import { permute } from './shape.js';
import { softmaxBackward, softmaxForward } from '../functions/softmax.js';

function lastAxisSoftmax(x: Tensor, log: boolean): Tensor {
  const cols = x.shape[x.ndim - 1] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  const { y, saved } = softmaxForward(x.backend, x, rows, cols, log);
  return record(log ? 'logSoftmax' : 'softmax', [x], y, (g) => [softmaxBackward(saved, g)]);
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
