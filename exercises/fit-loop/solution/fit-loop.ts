// Track task 9, fit-loop: a reference solution (Model.epochFit, src/models/model.ts, without callbacks and caches).
import { tensor, type DataIterator, type Model } from '../../../src/index.js';
import type { EpochSettings } from '../../../src/models/epoch-loop.js';

export function trainEpoch(model: Model, data: DataIterator, s: EpochSettings): number {
  let total = 0;
  for (const batch of data.batches()) {
    const x = tensor(batch.x, batch.xShape), t = tensor(batch.t, batch.tShape);
    const y = model.fprop(x);
    total += s.cost.getCost(y, t);
    model.bprop(s.cost.getErrors(y, t)); // δ = y − t at the softmax, summed over the batch
    s.optimizer.optimize(model.layersToOptimize, s.epoch, batch.xShape[0]);
  }
  return total / data.nbatches; // neon: after the loop, the next epoch's count when the data wraps
}
