// neon's costs on outputs y [N, K] and targets t [N, K] (one row per example). Each returns
// the mean over the batch of the per-example cost C_n, as neon's GeneralizedCost reports it.
// safelog(v) = ln(max(v, e^−50)); its derivative is 1/v above the clamp and 0 below.
//
// Gradients here are the true derivatives of the returned mean. neon's training loop
// instead feeds `y − t` (summed, not averaged) into the output layer and divides by the
// batch size in the optimizer; the layers reproduce that (see src/layers), and for
// Softmax + cross-entropy both give the same update.
import { allocate, Tensor } from '../../tensor/tensor.js';
import { sameShape, shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { commonDtype } from './util.js';

export const SAFELOG_MIN = Math.exp(-50);
export const safelog = (v: number): number => Math.log(Math.max(v, SAFELOG_MIN));
const dsafelog = (v: number): number => (v > SAFELOG_MIN ? 1 / v : 0);

/** Per-element cost terms f(y, t) (summed over classes for C_n) and their derivatives ∂f/∂y. */
export interface CostTerm {
  f: (y: number, t: number) => number;
  df: (y: number, t: number) => number;
}

export const COST_TERMS = {
  CrossEntropyBinary: { f: (v, u) => -u * safelog(v) - (1 - u) * safelog(1 - v), df: (v, u) => -u * dsafelog(v) + (1 - u) * dsafelog(1 - v) },
  CrossEntropyMulti: { f: (v, u) => -u * safelog(v), df: (v, u) => -u * dsafelog(v) },
  SumSquared: { f: (v, u) => 0.5 * (v - u) * (v - u), df: (v, u) => v - u },
} satisfies Record<string, CostTerm>;

function checkPair(op: string, y: Tensor, t: Tensor): [number, number] {
  if (!sameShape(y.shape, t.shape)) throw new ShapeError(`${op}: outputs ${shapeStr(y.shape)} and targets ${shapeStr(t.shape)} differ in shape`);
  if (y.ndim < 1) throw new ShapeError(`${op}: expected outputs [N, K], got a scalar`);
  const N = y.shape[0]!;
  return [N, y.size / Math.max(N, 1)];
}

/** Generic per-example cost: C = mean_n Σ_k f(y, t); dC/dy = f'(y, t) / N. */
function costOp(op: string, y: Tensor, t: Tensor, f: (y: number, t: number) => number, df: (y: number, t: number) => number): Tensor {
  const [N] = checkPair(op, y, t);
  const dtype = commonDtype(op, y, t);
  const yd = y.data, td = t.data;
  let total = 0;
  for (let i = 0; i < yd.length; i++) total += f(yd[i]!, td[i]!);
  const out = allocate(dtype, 1);
  out[0] = N > 0 ? total / N : 0;
  return record(op, [y, t], new Tensor(out, []), (g) => {
    const scale = g.item() / N;
    const dy = allocate(dtype, yd.length);
    for (let i = 0; i < yd.length; i++) dy[i] = scale * df(yd[i]!, td[i]!);
    return [new Tensor(dy, y.shape), null];
  });
}

/** neon CrossEntropyBinary: C_n = Σ_k −t·safelog(y) − (1−t)·safelog(1−y). */
export function crossEntropyBinary(y: Tensor, t: Tensor): Tensor {
  return costOp('crossEntropyBinary', y, t, COST_TERMS.CrossEntropyBinary.f, COST_TERMS.CrossEntropyBinary.df);
}

/** neon CrossEntropyMulti: C_n = −Σ_k t·safelog(y). */
export function crossEntropyMulti(y: Tensor, t: Tensor): Tensor {
  return costOp('crossEntropyMulti', y, t, COST_TERMS.CrossEntropyMulti.f, COST_TERMS.CrossEntropyMulti.df);
}

/** neon SumSquared: C_n = Σ_k (y − t)² / 2. */
export function sumSquared(y: Tensor, t: Tensor): Tensor {
  return costOp('sumSquared', y, t, COST_TERMS.SumSquared.f, COST_TERMS.SumSquared.df);
}
