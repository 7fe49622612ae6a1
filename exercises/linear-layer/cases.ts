// The tests of track task 6, linear-layer (run: npm run exercise linear-layer).
import assert from 'node:assert/strict';
import { Activation, Bias, Constant, Linear, manualSeed, Rectlin, resetLayerNames, Softmax, type Layer } from '../../src/index.js';
import { defineExercise } from '../harness.js';
import { expectSameTraining, expectTensor, random32, trainTiny } from '../kit.js';

type Impl = typeof import('./linear-layer.js');

/** Your layer and the engine's, configured for [2, 3, 2] inputs with the same weights. */
function pair(impl: Impl, nout = 4): [InstanceType<Impl['MyLinear']>, Linear] {
  manualSeed(3);
  const mine = new impl.MyLinear(nout, { name: 'mine' });
  mine.configure([2, 3, 2]);
  manualSeed(3);
  const ref = new Linear(nout, { name: 'ref' });
  ref.configure([2, 3, 2]);
  return [mine, ref];
}

const mlp = (make: (n: number, name: string) => Layer) => (): Layer[] => {
  resetLayerNames();
  return [
    make(5, 'fc1'), new Bias({ init: new Constant(0.1), name: 'fc1_bias' }), new Activation(Rectlin(), { name: 'relu' }),
    make(3, 'fc2'), new Bias({ init: new Constant(0), name: 'fc2_bias' }), new Activation(Softmax(), { name: 'softmax' }),
  ];
};

export default defineExercise<Impl>({
  title: 'a Linear layer\'s fprop and bprop (neon\'s conventions), trained in a tiny MLP',
  cases: {
    'fprop: an input [N, C, H, W] is flattened per example, y = x·Wᵀ is [N, nout]': (impl) => {
      const [mine, ref] = pair(impl);
      const x = random32([3, 2, 3, 2], 1);
      expectTensor('MyLinear(4).fprop(x [3, 2, 3, 2])', mine.fprop(x, false), ref.fprop(x, false), 1e-5, 1e-6);
    },
    'bprop: W.grad = deltaᵀ·x (overwritten each batch) and dx = delta·W in the input\'s shape': (impl) => {
      const [mine, ref] = pair(impl);
      for (const seed of [1, 2]) { // twice: W.grad holds the last batch's gradient, not a sum
        const x = random32([3, 2, 3, 2], seed), delta = random32([3, 4], seed + 10);
        mine.fprop(x, false);
        ref.fprop(x, false);
        const dx = mine.bprop(delta, true);
        const rdx = ref.bprop(delta, true)!;
        expectTensor(`W.grad after fprop/bprop of batch ${seed} (overwritten, not added to)`, mine.W!.grad, ref.params()[0]!.grad, 1e-5, 1e-6);
        expectTensor(`dx returned by bprop (batch ${seed}), in x's shape [3, 2, 3, 2]`, dx, rdx, 1e-5, 1e-6);
      }
    },
    'bprop with needInputGrad = false returns null (the first layer needs no dx)': (impl) => {
      const [mine] = pair(impl);
      mine.fprop(random32([3, 2, 3, 2], 1), false);
      assert.equal(mine.bprop(random32([3, 4], 2), false), null, 'bprop(delta, false) should return null');
    },
    'a tiny MLP of your layers trains as one of the engine\'s Linear': async (impl) => {
      const got = await trainTiny('ref', { layers: mlp((n, name) => new impl.MyLinear(n, { name })) });
      const want = await trainTiny('ref', { layers: mlp((n, name) => new Linear(n, { name })) });
      expectSameTraining('MLP with MyLinear vs with Linear (2 epochs, momentum SGD)', got, want);
    },
  },
});
