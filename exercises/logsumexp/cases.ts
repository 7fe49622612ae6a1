// The tests of exercise logsumexp (run: npm run exercise logsumexp).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradcheck, softmax, tensor } from '../../src/index.js';
import { defineExercise } from '../harness.js';

type Impl = typeof import('./logsumexp.js');

const near = (a: ArrayLike<number>, b: number[], tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `element ${i}: got ${a[i]}, expected ${b[i]}`);
};

export default defineExercise<Impl>({
  title: 'a numerically stable logsumexp op',
  cases: {
    'small values: the textbook formula, along the last axis and along axis 0': ({ logsumexp }) => {
      const x = tensor([[0.5, -1, 2], [1, 1, 1]], undefined, { dtype: 'float64' });
      near(logsumexp(x).data, [Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2)), 1 + Math.log(3)], 1e-14);
      near(logsumexp(x, 0).data, [Math.log(Math.exp(0.5) + Math.E), Math.log(Math.exp(-1) + Math.E), Math.log(Math.exp(2) + Math.E)], 1e-14);
      assert.deepEqual([...logsumexp(x).shape], [2]);
    },
    'large values do not overflow (float64: 1000; float32: 100)': ({ logsumexp }) => {
      near(logsumexp(tensor([1000, 1000], undefined, { dtype: 'float64' })).data, [1000 + Math.LN2], 1e-14);
      near(logsumexp(tensor([100, 99, 100])).data, [100 + Math.log(2 + Math.exp(-1))], 1e-6);
    },
    'very negative values do not underflow to −Infinity': ({ logsumexp }) => {
      near(logsumexp(tensor([-1000, -1000], undefined, { dtype: 'float64' })).data, [-1000 + Math.LN2], 1e-14);
    },
    'the gradient is softmax along the axis, even at large values': ({ logsumexp }) => {
      const values = [[800, 801, 799], [-3, 0.5, 2]];
      const x = tensor(values, undefined, { dtype: 'float64', requiresGrad: true });
      logsumexp(x).sum().backward();
      const expected = softmax(tensor(values, undefined, { dtype: 'float64' })).data;
      near(x.grad!.data, Array.from(expected), 1e-12);
    },
    'gradcheck on random shapes and axes (fast-check)': ({ logsumexp }) => {
      const input = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return fc.record({
          shape: fc.constant(shape),
          axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
          values: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n }),
        });
      });
      fc.assert(fc.property(input, ({ shape, axis, values }) => {
        gradcheck((x) => logsumexp(x!, axis), [tensor(Float64Array.from(values), shape, { dtype: 'float64' })], { name: 'logsumexp' });
      }), { numRuns: 40, seed: 15 });
    },
  },
});
