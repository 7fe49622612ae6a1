// neon's costs at the layer level (neon-spec §7.1). Outputs y and targets t are [N, K], one
// row per example. getCost is the mean over all N rows of the batch (wrapped duplicates
// included, as neon); getErrors is the delta fed into the last layer, NOT divided by N
// (the optimizer divides by the batch size).
import { COST_TERMS } from '../autograd/ops/loss.js';
import { Tensor } from '../tensor/tensor.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { ShapeError } from '../util/errors.js';

export interface CostFunction {
  readonly name: keyof typeof COST_TERMS;
  /** C_n for one example's K outputs starting at `start`. */
  costOf(y: Float32Array, t: Float32Array, start: number, K: number): number;
  /** The delta is scale·(y − t) for all three costs (neon's bprop). */
  readonly scale: number;
}

/** A cost from its per-element term (shared with the autograd losses in src/autograd/ops/loss.ts). */
function costFunction(name: keyof typeof COST_TERMS, scale: number): CostFunction {
  const f = COST_TERMS[name].f;
  return {
    name,
    scale,
    costOf(y, t, s, K) {
      let c = 0;
      for (let k = s; k < s + K; k++) c += f(y[k]!, t[k]!);
      return c;
    },
  };
}

/** −t·safelog(y) − (1−t)·safelog(1−y), summed over classes. */
export const CrossEntropyBinary = (scale = 1): CostFunction => costFunction('CrossEntropyBinary', scale);
/** −t·safelog(y), summed over classes. */
export const CrossEntropyMulti = (scale = 1): CostFunction => costFunction('CrossEntropyMulti', scale);
/** (y − t)² / 2, summed over classes. */
export const SumSquared = (): CostFunction => costFunction('SumSquared', 1);

export class GeneralizedCost {
  constructor(readonly costfunc: CostFunction) {}

  private check(y: Tensor, t: Tensor): [number, number] {
    if (!sameShape(y.shape, t.shape)) throw new ShapeError(`${this.costfunc.name}: model outputs ${shapeStr(y.shape)} and targets ${shapeStr(t.shape)} differ; does the last layer have one unit per class?`);
    const N = y.shape[0]!;
    return [N, y.size / Math.max(N, 1)];
  }

  /** Per-example costs C_n for rows [0, rows). */
  costs(y: Tensor, t: Tensor, rows?: number): Float64Array {
    const [N, K] = this.check(y, t);
    const yd = y.data as Float32Array, td = t.data as Float32Array;
    const n = rows ?? N;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.costfunc.costOf(yd, td, i * K, K);
    return out;
  }

  /** Mean cost over the batch (neon's get_cost). */
  getCost(y: Tensor, t: Tensor): number {
    const c = this.costs(y, t);
    let s = 0;
    for (const v of c) s += v;
    return c.length ? s / c.length : 0;
  }

  /** scale·(y − t): the gradient at the softmax/logistic input, summed (not averaged) over the batch. */
  getErrors(y: Tensor, t: Tensor): Tensor {
    this.check(y, t);
    const yd = y.data, td = t.data;
    const d = new Float32Array(yd.length);
    const s = this.costfunc.scale;
    for (let i = 0; i < d.length; i++) d[i] = s * (yd[i]! - td[i]!);
    return new Tensor(d, y.shape);
  }

  describe(): Record<string, unknown> {
    return { type: 'GeneralizedCost', costfunc: this.costfunc.name, scale: this.costfunc.scale };
  }
}
