// The tests of exercise flip (run: npm run exercise flip).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradcheck, tensor } from '../../src/index.js';
import { defineExercise } from '../harness.js';

type Impl = typeof import('./flip.js');

export default defineExercise<Impl>({
  title: 'a strided view op: flip along an axis',
  cases: {
    'reverses along axis 0, axis 1 and axis −1': ({ flip }) => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      assert.deepEqual(flip(x, 0).toArray(), [[4, 5, 6], [1, 2, 3]]);
      assert.deepEqual(flip(x, 1).toArray(), [[3, 2, 1], [6, 5, 4]]);
      assert.deepEqual(flip(x, -1).toArray(), [[3, 2, 1], [6, 5, 4]]);
    },
    'is a view: same storage, no copy': ({ flip }) => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      const y = flip(x, 1);
      assert.equal(y.storage, x.storage, 'flip should return a view of x.storage (new strides and offset), not a copy');
      assert.deepEqual([...y.shape], [2, 3]);
      x.setValues([10, 20, 30, 40, 50, 60]);
      assert.deepEqual(y.toArray(), [[30, 20, 10], [60, 50, 40]], 'a view sees later changes of x');
    },
    'works on views: a slice, a transpose, and flip of a flip': ({ flip }) => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      assert.deepEqual(flip(x.slice(1, 3, 1), 1).toArray(), [[3, 2], [6, 5]]);
      assert.deepEqual(flip(x.transpose(), 0).toArray(), [[3, 6], [2, 5], [1, 4]]);
      assert.deepEqual(flip(flip(x, 0), 0).toArray(), x.toArray());
      assert.deepEqual(flip(flip(x, 1), 0).toArray(), [[6, 5, 4], [3, 2, 1]]);
    },
    'backward flips the gradient back': ({ flip }) => {
      const x = tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
      flip(x, 1).backward(tensor([[1, 2, 3], [4, 5, 6]]));
      assert.deepEqual(Array.from(x.grad!.data), [3, 2, 1, 6, 5, 4]);
    },
    'gradcheck on random shapes and axes (fast-check)': ({ flip }) => {
      const input = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return fc.record({
          shape: fc.constant(shape),
          axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
          values: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
        });
      });
      fc.assert(fc.property(input, ({ shape, axis, values }) => {
        // Multiply by a ramp so that a flip that returns x unchanged has the wrong gradient.
        const ramp = tensor(Float64Array.from(values, (_, i) => i + 1), shape, { dtype: 'float64' });
        gradcheck((x) => flip(x!, axis).mul(ramp), [tensor(Float64Array.from(values), shape, { dtype: 'float64' })], { name: 'flip' });
      }), { numRuns: 40, seed: 15 });
    },
  },
});
