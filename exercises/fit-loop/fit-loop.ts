// Track task 9, fit-loop: your work. See README.md; run `npm run exercise fit-loop`.
import { tensor, type DataIterator, type GeneralizedCost, type Model, type TrainOptimizer } from '../../src/index.js';

export interface FitSettings {
  optimizer: TrainOptimizer;
  cost: GeneralizedCost;
  numEpochs: number;
}

/**
 * neon's training loop: for each epoch, for each minibatch of `data`: forward pass, cost,
 * backward pass of the cost's errors, one optimizer step. Returns each epoch's mean cost
 * (the sum of the minibatch costs divided by the number of minibatches).
 */
export function fit(model: Model, data: DataIterator, s: FitSettings): number[] {
  model.initialize(data.lshape);
  // TODO: for epoch in [0, numEpochs): for (const batch of data.batches()):
  //   x = tensor(batch.x, batch.xShape), t = tensor(batch.t, batch.tShape);
  //   y = model.fprop(x); cost = s.cost.getCost(y, t); model.bprop(s.cost.getErrors(y, t));
  //   s.optimizer.optimize(model.layersToOptimize, epoch, batch size).
  throw new Error(`TODO: train ${model.layers.length} layers for ${s.numEpochs} epochs over ${data.nbatches} minibatches of ${data.bsz} (tensor is ${typeof tensor})`);
}
