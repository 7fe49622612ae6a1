// Reductions. Backward broadcasts the output gradient back over the reduced axes:
// sum → every element gets g; mean → g / count; max → g goes to the (first) argmax.
import type { Tensor } from '../../tensor/tensor.js';
import { normalizeAxes, sizeOf } from '../../tensor/shape.js';
import { record } from '../graph.js';
import { dense, empty, wrap } from './util.js';
import { mul } from './elementwise.js';

function reducedShape(shape: readonly number[], axes: number[], keepdims: boolean): { kept: number[]; out: number[] } {
  const kept = shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const out = keepdims ? kept : shape.filter((_, k) => !axes.includes(k));
  return { kept, out };
}

/** g (shape of the reduction's output) broadcast back to `shape`. */
function expandBack(g: Tensor, kept: number[], shape: readonly number[]): Tensor {
  const out = empty(g.backend, g.dtype, shape);
  const strides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    if (kept[k] !== 1 || shape[k] === 1) strides[k] = s;
    s *= kept[k]!;
  }
  g.backend.copy({ data: dense(g), offset: 0, shape, strides }, { data: out.storage, offset: 0, shape, strides: out.strides });
  return out;
}

// d sum = g broadcast
/** Sum over `axes` (all by default), keeping them as size 1 with keepdims; differentiable. */
export function sum(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  const ax = normalizeAxes(axes, x.ndim, 'sum');
  const { kept, out: outShape } = reducedShape(x.shape, ax, keepdims);
  const be = x.backend;
  const out = be.alloc(x.dtype, sizeOf(kept));
  be.reduce('sum', dense(x), x.shape, ax, out);
  return record('sum', [x], wrap(be, out, outShape), (g) => [expandBack(g, kept, x.shape)]);
}

// d mean = g broadcast / count
/** Mean over `axes` (all by default), keeping them as size 1 with keepdims; differentiable. */
export function mean(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  const ax = normalizeAxes(axes, x.ndim, 'mean');
  const count = ax.reduce((n, k) => n * x.shape[k]!, 1);
  return mul(sum(x, ax, keepdims), 1 / count);
}

// d max = g at the argmax, 0 elsewhere
/** Maximum over `axes` (all by default); the gradient goes to the first maximal element. */
export function max(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  const ax = normalizeAxes(axes, x.ndim, 'max');
  const { kept, out: outShape } = reducedShape(x.shape, ax, keepdims);
  const be = x.backend;
  const n = sizeOf(kept);
  const out = be.alloc(x.dtype, n);
  const argmax = be.allocIndex(n);
  be.reduce('max', dense(x), x.shape, ax, out, argmax);
  return record('max', [x], wrap(be, out, outShape), (g) => {
    const dx = empty(be, x.dtype, x.shape);
    be.scatterAdd(dense(g), argmax, n, dx.storage);
    return [dx];
  });
}
