// neon's costs on outputs y [N, K] and targets t [N, K] (one row per example), written once
// for the tape's loss ops (src/autograd/ops/loss.ts) and neon's GeneralizedCost
// (src/models/cost.ts). The terms f(y, t) are src/kernels/cost-terms.ts, behind the
// backend's costRows and costGrad:
//   C_n = Σ_k f(y[n, k], t[n, k])      dy = scale · ∂f/∂y elementwise
// (neon's training loop feeds y − t into the output layer instead of this backward:
// GeneralizedCost.getErrors, the softmax-cross-entropy shortcut.)
import type { Backend, CostName, DeviceBuffer } from '../../kernels/backend.js';
import type { DType, Tensor } from '../../tensor/tensor.js';
import { dense, wrap } from '../ops/util.js';

/** What the backward reads: y and t as dense buffers. */
export interface CostSaved {
  readonly be: Backend;
  readonly cost: CostName;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly y: DeviceBuffer;
  readonly t: DeviceBuffer;
}

/** The per-example costs C_n of the first `rows` rows (all N by default): a buffer of `rows` values on `be`. */
export function costForward(be: Backend, cost: CostName, y: Tensor, t: Tensor, rows = y.shape[0]!): { rows: DeviceBuffer; saved: CostSaved } {
  const K = y.size / Math.max(y.shape[0]!, 1);
  const yd = dense(y), td = dense(t);
  const out = be.alloc(y.dtype, rows);
  be.costRows(cost, yd, td, rows, K, out);
  return { rows: out, saved: { be, cost, dtype: y.dtype, shape: y.shape, y: yd, t: td } };
}

/** dy = scale · ∂C/∂y, shaped as y (scale = 1/N for the mean over the batch, times the output's gradient). */
export function costBackward(s: CostSaved, scale: number): Tensor {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const dy = s.be.alloc(s.dtype, n);
  s.be.costGrad(s.cost, s.y, s.t, n, scale, dy);
  return wrap(s.be, dy, s.shape);
}
