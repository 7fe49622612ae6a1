// Exercise logsumexp: a reference solution.
import { add, exp, log, max, noGrad, sub, sum, type Tensor } from '../../../src/index.js';

/**
 * log Σ exp(x) along `axis`, as m + log Σ exp(x − m) with m the maximum along the axis:
 * every exp is then ≤ 1 and the largest is exactly 1, so the sum is in [1, n].
 * m is taken under noGrad: the result does not depend on the shift, so no gradient needs
 * to flow through it, and the tape's gradient is exactly softmax(x) along the axis.
 */
export function logsumexp(x: Tensor, axis = -1): Tensor {
  const m = noGrad(() => max(x, axis, true));
  const shifted = log(sum(exp(sub(x, m)), axis, true));
  return sum(add(shifted, m), axis); // summing over the kept axis of size 1 removes it
}
