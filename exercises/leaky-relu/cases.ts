// The tests of exercise leaky-relu (run: npm run exercise leaky-relu).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradcheck, maximum, mul, noGrad, record, tensor, type Tensor } from '../../src/index.js';
import { defineExercise } from '../harness.js';

type Impl = typeof import('./leaky-relu.js');

/** LeakyReLU whose backward forgets the slope (gradient 0 where x ≤ 0): what the property must catch. */
function wrongLeakyRelu(x: Tensor, slope: number): Tensor {
  const out = noGrad(() => maximum(x, mul(x, slope)));
  return record('leakyRelu', [x], out, (g) => [mul(g, tensor(Array.from(x.toHost(), (v) => (v > 0 ? 1 : 0)), x.shape, { dtype: x.dtype }))]);
}

export default defineExercise<Impl>({
  title: 'LeakyReLU as a tape op, with its backward and a fast-check gradient property',
  cases: {
    'forward: x where x > 0, slope·x elsewhere': ({ leakyRelu }) => {
      const y = leakyRelu(tensor([-2, -0.5, 0, 1.5]), 0.1);
      assert.deepEqual(Array.from(y.data, (v) => +v.toFixed(6)), [-0.2, -0.05, 0, 1.5]);
    },
    'records one op named leakyRelu': ({ leakyRelu }) => {
      const x = tensor([-1, 2], undefined, { requiresGrad: true });
      const y = leakyRelu(x, 0.2);
      assert.equal(y.gradFn?.op, 'leakyRelu', 'the output should carry a gradFn recorded by record("leakyRelu", ...)');
      assert.equal(y.gradFn?.inputs[0], x, 'the recorded input should be x itself');
    },
    'backward: 1 where x > 0, the slope elsewhere': ({ leakyRelu }) => {
      const x = tensor([-3, -0.1, 0.1, 3], undefined, { requiresGrad: true });
      leakyRelu(x, 0.25).backward(tensor([1, 2, 3, 4]));
      assert.deepEqual(Array.from(x.grad!.data), [0.25, 0.5, 3, 4]);
    },
    'gradcheck in float64, on a non-contiguous view too': ({ leakyRelu }) => {
      const v = tensor([[-1.3, 0.7, 2.1], [0.4, -0.2, -2.5]], undefined, { dtype: 'float64' });
      gradcheck((x) => leakyRelu(x!, 0.3), [v], { name: 'leakyRelu' });
      gradcheck((x) => leakyRelu(x!.transpose(), 0.3), [v], { name: 'leakyRelu of a transposed view' });
    },
    'your gradientProperty holds for your op': async ({ leakyRelu, gradientProperty }) => {
      await fc.assert(gradientProperty(leakyRelu), { numRuns: 30, seed: 15 });
    },
    'your gradientProperty catches a wrong backward': async ({ gradientProperty }) => {
      const r = await fc.check(gradientProperty(wrongLeakyRelu), { numRuns: 50, seed: 15 });
      assert.ok(r.failed, 'the property passed for a LeakyReLU whose backward ignores the slope: it must check the gradient');
    },
  },
});
