// Exercise flip: a reference solution.
import { record, Tensor } from '../../../src/index.js';

/**
 * x reversed along `axis`, as a view: the same storage, the axis' stride negated, and the
 * offset moved to the last element along the axis. Element i along the axis is then read at
 * offset + (n − 1 − i)·stride. The backward flips the gradient back (flip is its own inverse).
 */
export function flip(x: Tensor, axis: number): Tensor {
  const ax = axis < 0 ? axis + x.ndim : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= x.ndim) throw new Error(`flip: axis ${axis} out of range for ${x.ndim} dimensions`);
  const n = x.shape[ax]!;
  const strides = [...x.strides];
  strides[ax] = -x.strides[ax]!;
  const offset = x.offset + (n - 1) * x.strides[ax]!;
  const out = new Tensor(x.storage, x.shape, strides, offset, x.backend);
  return record('flip', [x], out, (g) => [flip(g, ax)]);
}
