// neon's costs on outputs y [N, K] and targets t [N, K] (one row per example). Each returns
// the mean over the batch of the per-example cost C_n, as neon's GeneralizedCost reports it.
// safelog(v) = ln(max(v, e^−50)); its derivative is 1/v above the clamp and 0 below
// (the terms: src/kernels/cost-terms.ts; the per-example costs and their gradient:
// src/autograd/functions/cost.ts, shared with neon's GeneralizedCost).
//
// Gradients here are the true derivatives of the returned mean. neon's training loop
// instead feeds `y − t` (summed, not averaged) into the output layer and divides by the
// batch size in the optimizer; the layers reproduce that (see src/layers), and for
// Softmax + cross-entropy both give the same update.
import type { CostName } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { sameShape, shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { costBackward, costForward } from '../functions/cost.js';
import { backendOf, commonDtype, wrap } from './util.js';

export { COST_TERMS, SAFELOG_MIN, safelog, type CostTerm } from '../../kernels/cost-terms.js';

/** The batch size N of outputs and targets [N, K] of the same shape. */
function checkPair(op: string, y: Tensor, t: Tensor): number {
  if (!sameShape(y.shape, t.shape)) throw new ShapeError(`${op}: outputs ${shapeStr(y.shape)} and targets ${shapeStr(t.shape)} differ in shape`);
  if (y.ndim < 1) throw new ShapeError(`${op}: expected outputs [N, K], got a scalar`);
  return y.shape[0]!;
}

/** Generic per-example cost: C = mean_n Σ_k f(y, t); dC/dy = f'(y, t) / N. */
function costOp(op: string, cost: CostName, y: Tensor, t: Tensor): Tensor {
  const N = checkPair(op, y, t);
  const be = backendOf(op, y, t);
  const dtype = commonDtype(op, y, t);
  const { rows, saved } = costForward(be, cost, y, t);
  // The mean over the batch: Σ_n C_n (a reduction), times 1/N.
  const total = be.alloc(dtype, 1);
  be.reduce('sum', rows, [N], [0], total);
  be.binaryScalar('mul', total, N > 0 ? 1 / N : 0, total, 1, false);
  return record(op, [y, t], wrap(be, total, []), (g) => [costBackward(saved, g.item() / N), null]);
}

/** neon CrossEntropyBinary: C_n = Σ_k −t·safelog(y) − (1−t)·safelog(1−y). */
export function crossEntropyBinary(y: Tensor, t: Tensor): Tensor {
  return costOp('crossEntropyBinary', 'CrossEntropyBinary', y, t);
}

/** neon CrossEntropyMulti: C_n = −Σ_k t·safelog(y). */
export function crossEntropyMulti(y: Tensor, t: Tensor): Tensor {
  return costOp('crossEntropyMulti', 'CrossEntropyMulti', y, t);
}

/** neon SumSquared: C_n = Σ_k (y − t)² / 2. */
export function sumSquared(y: Tensor, t: Tensor): Tensor {
  return costOp('sumSquared', 'SumSquared', y, t);
}
