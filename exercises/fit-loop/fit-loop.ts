// Track task 9, fit-loop: your work. See README.md; run `npm run exercise fit-loop`.
// The tests make Model.fit run this function for every epoch (setEpochLoop in
// src/models/epoch-loop.ts): fit keeps the epochs, the callbacks and the stopping rules.
import { tensor, type DataIterator, type Model } from '../../src/index.js';
import type { EpochSettings } from '../../src/models/epoch-loop.js';

/**
 * One epoch of neon's training loop: for each minibatch of `data`: forward pass, cost,
 * backward pass of the cost's errors, one optimizer step. Returns the epoch's mean cost
 * (the sum of the minibatch costs divided by the number of minibatches).
 */
export function trainEpoch(model: Model, data: DataIterator, s: EpochSettings): number {
  // TODO: for (const batch of data.batches()):
  //   x = tensor(batch.x, batch.xShape), t = tensor(batch.t, batch.tShape);
  //   y = model.fprop(x); cost = s.cost.getCost(y, t); model.bprop(s.cost.getErrors(y, t));
  //   s.optimizer.optimize(model.layersToOptimize, s.epoch, batch size).
  throw new Error(`TODO: epoch ${s.epoch} of ${model.layers.length} layers over ${data.nbatches} minibatches of ${data.bsz} (tensor is ${typeof tensor})`);
}
