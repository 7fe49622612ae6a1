// neon's costs at the layer level (neon/transforms/cost.py, neon/layers/container.py
// GeneralizedCost). Outputs y and targets t are [N, K], one row per example. getCost is the
// mean over all N rows of the batch (wrapped duplicates included, as neon); getErrors is the
// delta fed into the last layer, NOT divided by N (the optimizer divides by the batch size).
// The per-example costs are the loss ops' (src/autograd/functions/cost.ts, the backend's
// costRows over the terms of src/kernels/cost-terms.ts); only those N numbers are read back.
// getErrors is neon's own: the softmax-cross-entropy shortcut y − t, not the cost's derivative.
import type { CostName } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { costForward } from '../autograd/functions/cost.js';
import { backendOf, dense, wrap } from '../autograd/ops/util.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { ShapeError } from '../util/errors.js';

/** One of neon's cost functions, by name, with its scale. */
export interface CostFunction {
  readonly name: CostName;
  /** The delta is scale·(y − t) for all three costs (neon's bprop). */
  readonly scale: number;
}

/** −t·safelog(y) − (1−t)·safelog(1−y), summed over classes. */
export const CrossEntropyBinary = (scale = 1): CostFunction => ({ name: 'CrossEntropyBinary', scale });
/** −t·safelog(y), summed over classes. */
export const CrossEntropyMulti = (scale = 1): CostFunction => ({ name: 'CrossEntropyMulti', scale });
/** (y − t)² / 2, summed over classes. */
export const SumSquared = (): CostFunction => ({ name: 'SumSquared', scale: 1 });

/** neon's GeneralizedCost: the mean over the batch of a cost function, and its delta for backprop. */
export class GeneralizedCost {
  constructor(readonly costfunc: CostFunction) {}

  private check(y: Tensor, t: Tensor): void {
    if (!sameShape(y.shape, t.shape)) throw new ShapeError(`${this.costfunc.name}: model outputs ${shapeStr(y.shape)} and targets ${shapeStr(t.shape)} differ; does the last layer have one unit per class?`);
  }

  /** Per-example costs C_n for rows [0, rows). */
  costs(y: Tensor, t: Tensor, rows?: number): Float64Array {
    this.check(y, t);
    const be = backendOf(this.costfunc.name, y, t);
    const n = rows ?? y.shape[0]!;
    return Float64Array.from(be.read(costForward(be, this.costfunc.name, y, t, n).rows, 0, n));
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
    const be = backendOf(this.costfunc.name, y, t);
    const d = be.alloc(y.dtype, y.size);
    be.binary('sub', { data: dense(y), offset: 0, shape: [y.size], strides: [1] }, { data: dense(t), offset: 0, shape: [y.size], strides: [1] }, d);
    if (this.costfunc.scale !== 1) be.binaryScalar('mul', d, this.costfunc.scale, d, y.size, false);
    return wrap(be, d, y.shape);
  }

  /** The cost function and scale, JSON-serializable (saved in checkpoints). */
  describe(): Record<string, unknown> {
    return { type: 'GeneralizedCost', costfunc: this.costfunc.name, scale: this.costfunc.scale };
  }
}
