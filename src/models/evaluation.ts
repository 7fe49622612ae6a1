// Inference passes over a whole set with neon's eval semantics: the iterator is reset before
// and after, and exactly ndata examples count (the wrap-around duplicates that fill the last
// batch are left out). Each batch's forward comes from a BatchForward (batch-forward.ts).
import type { DataIterator } from '../data/iterator.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../autograd/ops/create.js';
import type { BatchForward } from './batch-forward.js';
import type { GeneralizedCost } from './cost.js';
import type { Metric } from './metrics.js';

/** What one pass gives: metric means, outputs [ndata, nout] row-major, each example's target class. */
export interface EvaluationPass {
  metrics: number[];
  outputs: Float32Array;
  nout: number;
  targets: Int32Array;
}

/** Run `forward` over the set; `visit` sees each batch's outputs y, targets t and its count of valid rows. */
function forEachInference(set: DataIterator, forward: BatchForward, visit: (y: Tensor, t: Tensor, valid: number) => void, onBatch?: (done: number, total: number) => void): void {
  set.reset();
  let processed = 0;
  for (const batch of forward.batches(set)) {
    const y = forward.fprop(batch);
    const valid = Math.min(set.ndata - processed, batch.xShape[0], batch.valid);
    visit(y, tensor(batch.t, batch.tShape), valid);
    processed += valid;
    onBatch?.(processed, set.ndata);
    if (processed >= set.ndata) break;
  }
  set.reset();
}

/**
 * One pass giving at once the metric values (none without a metric), the outputs and each
 * example's target class (argmax of its target row). `onBatch` sees the examples done so far.
 */
export function evaluatePass(set: DataIterator, forward: BatchForward, metric: Metric | null, onBatch?: (done: number, total: number) => void): EvaluationPass {
  const sums = metric?.names.map(() => 0) ?? [];
  const targets = new Int32Array(set.ndata);
  let outputs: Float32Array | null = null;
  let nout = 0;
  let row = 0;
  forEachInference(set, forward, (y, t, valid) => {
    nout = y.size / y.shape[0]!;
    const yd = y.toHost() as Float32Array;
    const td = t.toHost() as Float32Array;
    const K = t.shape[1]!;
    metric?.sum(yd, td, nout, valid).forEach((v, i) => (sums[i]! += v));
    outputs ??= new Float32Array(set.ndata * nout);
    outputs.set(yd.subarray(0, valid * nout), row * nout);
    for (let i = 0; i < valid; i++, row++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (td[i * K + k]! > td[i * K + best]!) best = k;
      targets[row] = best;
    }
  }, onBatch);
  return { metrics: sums.map((v) => v / set.ndata), outputs: outputs ?? new Float32Array(0), nout, targets };
}

/** Mean of `cost` over exactly ndata examples. */
export function meanCostPass(set: DataIterator, forward: BatchForward, cost: GeneralizedCost): number {
  let s = 0;
  forEachInference(set, forward, (y, t, valid) => {
    for (const c of cost.costs(y, t, valid)) s += c;
  });
  return s / set.ndata;
}
