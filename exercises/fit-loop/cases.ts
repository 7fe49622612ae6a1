// The tests of track task 9, fit-loop (run: npm run exercise fit-loop).
import assert from 'node:assert/strict';
import type { ParamLayer, TrainOptimizer } from '../../src/index.js';
import { defineExercise } from '../harness.js';
import { expectClose, expectSameTraining, trainTiny } from '../kit.js';

type Impl = typeof import('./fit-loop.js');

export default defineExercise<Impl>({
  title: 'the training loop (fprop, cost, bprop, optimizer step per minibatch), against Model.fit',
  cases: {
    'one optimizer step per minibatch, with the epoch and the batch size': async ({ fit }) => {
      const calls: string[] = [];
      const spy: TrainOptimizer = { optimize: (layers: ParamLayer[], epoch: number, bsz: number) => void calls.push(`epoch ${epoch}, bsz ${bsz}, ${layers.length} layers`) };
      await trainTiny('ref', { kind: 'mlp', fit: (m, data, o) => void fit(m, data, { ...o, optimizer: spy }) });
      const want = ['epoch 0', 'epoch 0', 'epoch 0', 'epoch 1', 'epoch 1', 'epoch 1'].map((e) => `${e}, bsz 4, 4 layers`);
      assert.deepEqual(calls, want, 'the calls of optimizer.optimize(layersToOptimize, epoch, bsz) for 2 epochs of 3 minibatches of 4 (an MLP: 2 Linear + 2 Bias layers)');
    },
    'each epoch\'s mean cost, as Model.fit reports it': async ({ fit }) => {
      let got: number[] = [];
      await trainTiny('ref', { kind: 'mlp', fit: (m, data, o) => void (got = fit(m, data, o)) });
      const want = (await trainTiny('ref', { kind: 'mlp' })).costs;
      assert.ok(Array.isArray(got) && got.length === want.length, `fit should return ${want.length} mean costs (one per epoch), got ${JSON.stringify(got)}`);
      expectClose('the mean cost of each epoch', got, want, [want.length], 1e-5, 1e-6);
    },
    'a tiny conv net trained by your loop ends with the weights Model.fit gives': async ({ fit }) => {
      const got = await trainTiny('ref', { kind: 'conv', fit: (m, data, o) => void fit(m, data, o) });
      expectSameTraining('your fit vs Model.fit (2 epochs, momentum SGD)', got, await trainTiny('ref', { kind: 'conv' }));
    },
  },
});
