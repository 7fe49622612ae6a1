// Shared by the model-level benchmarks: one training step exactly as Model.fit runs it
// (fprop, cost, bprop, optimizer step, with layers at learning rate 0 marked frozen as fit
// marks them), and one inference pass, on seeded random data.
import type { Model, TrainOptimizer } from '../src/models/model.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { tensor } from '../src/autograd/ops/create.js';

/** Deterministic values in [0, 1) (an LCG: cheap, and the same in every run). */
export function randomData(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32;
  }
  return x;
}

/** A batch of random images [n, ...inShape] (zero-mean) and one-hot targets [n, nclass]. */
export function randomBatch(n: number, inShape: readonly number[], nclass: number, seed: number): { x: Tensor; t: Tensor } {
  const F = inShape.reduce((a, b) => a * b, 1);
  const xd = randomData(n * F, seed);
  for (let i = 0; i < xd.length; i++) xd[i] = xd[i]! - 0.5;
  const td = new Float32Array(n * nclass);
  for (let i = 0; i < n; i++) td[i * nclass + (i % nclass)] = 1;
  return { x: tensor(xd, [n, ...inShape]), t: tensor(td, [n, nclass]) };
}

/**
 * Prepares `model` for training with `optimizer` (initializes it for inShape, marks the
 * layers the optimizer gives learning rate 0 at epoch 0 as frozen, as Model.fit does) and
 * returns one training step on the given batch.
 */
export function trainingStep(model: Model, optimizer: TrainOptimizer, inShape: readonly number[], batch: { x: Tensor; t: Tensor }): () => void {
  model.initialize(inShape);
  for (const l of model.layersToOptimize) {
    l.computeParamGrads = optimizer.learningRateFor ? optimizer.learningRateFor(l, 0) !== 0 : true;
  }
  const cost = model.cost!;
  const params = model.layersToOptimize;
  const bsz = batch.x.shape[0]!;
  return () => {
    const y = model.fprop(batch.x, false);
    cost.getCost(y, batch.t);
    model.bprop(cost.getErrors(y, batch.t));
    optimizer.optimize(params, 0, bsz);
  };
}

/** Forward FLOPs of one example (the model summary's count: conv and linear multiply-adds ×2, plus the small layers). */
export function forwardFlopsPerExample(model: Model): number {
  return model.describeLayers().reduce((a, d) => a + d.flops, 0);
}
