// The tests of track task 9, fit-loop (run: npm run exercise fit-loop). Your trainEpoch is
// set as Model.fit's epoch loop (setEpochLoop, src/models/epoch-loop.ts): Model.fit runs
// the epochs and the callbacks and calls your loop for each epoch's minibatches. The same
// training without it (Model.fit's own loop) is the reference.
import assert from 'node:assert/strict';
import type { ParamLayer, TrainOptimizer } from '../../src/index.js';
import { setEpochLoop } from '../../src/models/epoch-loop.js';
import { defineExercise } from '../harness.js';
import { expectClose, expectSameTraining, readmeTransfer, trainTiny } from '../kit.js';

type Impl = typeof import('./fit-loop.js');

/** Runs fn with your loop inside Model.fit, then restores fit's own (also when fn throws). */
async function withYourLoop<T>(impl: Impl, fn: () => Promise<T>): Promise<T> {
  const prev = setEpochLoop((model, data, s) => {
    const c = impl.trainEpoch(model, data, s);
    if (typeof c !== 'number') throw new assert.AssertionError({ message: `trainEpoch returned ${String(c)} for epoch ${s.epoch}; expected the epoch's mean cost (a number)` });
    return c;
  });
  try {
    return await fn();
  } finally {
    setEpochLoop(prev);
  }
}

export default defineExercise<Impl>({
  title: 'the training loop of one epoch (fprop, cost, bprop, optimizer step per minibatch), run by Model.fit',
  cases: {
    'one optimizer step per minibatch, with the epoch and the batch size': async (impl) => {
      const calls: string[] = [];
      const spy: TrainOptimizer = { optimize: (layers: ParamLayer[], epoch: number, bsz: number) => void calls.push(`epoch ${epoch}, bsz ${bsz}, ${layers.length} layers`) };
      await withYourLoop(impl, () => trainTiny('ref', { kind: 'mlp', fit: (m, data, o) => m.fit(data, { ...o, optimizer: spy }) }));
      const want = ['epoch 0', 'epoch 0', 'epoch 0', 'epoch 1', 'epoch 1', 'epoch 1'].map((e) => `${e}, bsz 4, 4 layers`);
      assert.deepEqual(calls, want, 'the calls of optimizer.optimize(layersToOptimize, epoch, bsz) for 2 epochs of 3 minibatches of 4 (an MLP: 2 Linear + 2 Bias layers)');
    },
    'each epoch\'s mean cost, as Model.fit\'s own loop reports it to the callbacks': async (impl) => {
      const got = (await withYourLoop(impl, () => trainTiny('ref', { kind: 'mlp' }))).costs;
      const want = (await trainTiny('ref', { kind: 'mlp' })).costs;
      expectClose('the mean cost of each epoch (onEpochEnd)', got, want, [want.length], 1e-5, 1e-6);
    },
    'a tiny conv net trained by Model.fit with your loop ends with the weights of fit\'s own loop': async (impl) => {
      const got = await withYourLoop(impl, () => trainTiny('ref', { kind: 'conv' }));
      expectSameTraining('Model.fit with your loop vs its own (2 epochs, momentum SGD)', got, await trainTiny('ref', { kind: 'conv' }));
    },
    'transfer learning (the README\'s example, frozen conv layers): your loop gets fit\'s costs and test accuracy': async (impl) => {
      const got = await withYourLoop(impl, readmeTransfer);
      const want = await readmeTransfer(); // fit's own loop, with the frozen-feature cache
      expectClose('the epoch costs of the transfer run', got.costs, want.costs, [want.costs.length], 1e-4, 1e-5);
      assert.equal(got.accuracy, want.accuracy, `test accuracy after transfer with your loop ${got.accuracy}, with fit's ${want.accuracy}`);
    },
  },
});
