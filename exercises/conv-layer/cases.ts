// The tests of track task 7, conv-layer (run: npm run exercise conv-layer).
import assert from 'node:assert/strict';
import { Activation, Affine, Bias, Constant, Convolution, manualSeed, Pooling, Rectlin, resetLayerNames, Softmax, type Layer } from '../../src/index.js';
import { defineExercise } from '../harness.js';
import { backendWith, expectSameTraining, expectTensor, random32, trainTiny } from '../kit.js';

type Impl = typeof import('./conv-layer.js');

/** Your layer and the engine's, configured for [2, 5, 6] inputs with the same weights. */
function pair(impl: Impl): [InstanceType<Impl['MyConvolution']>, Convolution] {
  manualSeed(3);
  const mine = new impl.MyConvolution([3, 3, 4], { padding: 1, strides: 2, name: 'mine' });
  mine.configure([2, 5, 6]);
  manualSeed(3);
  const ref = new Convolution([3, 3, 4], { padding: 1, strides: 2, name: 'ref' });
  ref.configure([2, 5, 6]);
  return [mine, ref];
}

/** A backend that refuses the convolution kernels: the layer must be built from im2col, gemm and col2im. */
function noConvKernels() {
  const refuse = (what: string) => () => {
    throw new Error(`your layer called the backend's ${what}: build the convolution from be.im2col, be.gemm and be.col2im`);
  };
  return backendWith('ex-no-conv', { conv2dForward: refuse('conv2dForward'), conv2dBackward: refuse('conv2dBackward') });
}

const net = (conv: () => Layer) => (): Layer[] => {
  resetLayerNames();
  return [
    conv(), new Bias({ init: new Constant(0.1), name: 'conv_bias' }), new Activation(Rectlin(), { name: 'relu' }), new Pooling(2, { name: 'pool' }),
    ...Affine(3, { bias: new Constant(0), activation: Softmax(), name: 'fc' }),
  ];
};

export default defineExercise<Impl>({
  title: 'a Convolution layer\'s fprop and bprop from im2col, gemm and col2im, trained in a tiny conv net',
  cases: {
    'fprop: y [N, K, P, Q] as the engine\'s Convolution (3×3, padding 1, stride 2)': (impl) => {
      const [mine, ref] = pair(impl);
      const x = random32([2, 2, 5, 6], 1);
      expectTensor('MyConvolution([3, 3, 4], padding 1, stride 2).fprop(x [2, 2, 5, 6])', mine.fprop(x, false), ref.fprop(x, false), 1e-5, 1e-6);
    },
    'bprop: W.grad (overwritten each batch) and dx as the engine\'s': (impl) => {
      const [mine, ref] = pair(impl);
      for (const seed of [1, 2]) {
        const x = random32([2, 2, 5, 6], seed), delta = random32([2, 4, 3, 3], seed + 10);
        mine.fprop(x, false);
        ref.fprop(x, false);
        const dx = mine.bprop(delta, true), rdx = ref.bprop(delta, true)!;
        expectTensor(`W.grad [K, C, R, S] after batch ${seed} (zero it, then sum over the images)`, mine.W!.grad, ref.params()[0]!.grad, 1e-5, 1e-6);
        expectTensor(`dx [N, C, H, W] returned by bprop (batch ${seed})`, dx, rdx, 1e-5, 1e-6);
      }
      const [m2] = pair(impl);
      m2.fprop(random32([2, 2, 5, 6], 3), false);
      assert.equal(m2.bprop(random32([2, 4, 3, 3], 4), false), null, 'bprop(delta, false) should return null');
    },
    'on a backend without convolution kernels, a tiny conv net of your layer trains as one of the engine\'s Convolution on ref': async (impl) => {
      const be = noConvKernels();
      const got = await trainTiny(be, { layers: net(() => new impl.MyConvolution([3, 3, 4], { padding: 1, name: 'conv' })) });
      const want = await trainTiny('ref', { layers: net(() => new Convolution([3, 3, 4], { padding: 1, name: 'conv' })) });
      expectSameTraining('conv net with MyConvolution (on ex-no-conv) vs with Convolution (on ref)', got, want);
    },
  },
});
