// Track task 9, fit-loop: a reference solution (Model.fit's loop, src/models/model.ts, without callbacks and caches).
import { tensor, type DataIterator, type GeneralizedCost, type Model, type TrainOptimizer } from '../../../src/index.js';

export interface FitSettings {
  optimizer: TrainOptimizer;
  cost: GeneralizedCost;
  numEpochs: number;
}

export function fit(model: Model, data: DataIterator, s: FitSettings): number[] {
  model.initialize(data.lshape);
  const costs: number[] = [];
  for (let epoch = 0; epoch < s.numEpochs; epoch++) {
    let total = 0;
    for (const batch of data.batches()) {
      const x = tensor(batch.x, batch.xShape), t = tensor(batch.t, batch.tShape);
      const y = model.fprop(x);
      total += s.cost.getCost(y, t);
      model.bprop(s.cost.getErrors(y, t)); // δ = y − t at the softmax, summed over the batch
      s.optimizer.optimize(model.layersToOptimize, epoch, batch.xShape[0]);
    }
    costs.push(total / data.nbatches);
  }
  return costs;
}
