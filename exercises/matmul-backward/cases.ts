// The tests of track task 2, matmul-backward (run: npm run exercise matmul-backward).
import assert from 'node:assert/strict';
import { gradcheck, matmul, record, sum, tanh, type Tensor } from '../../src/index.js';
import { mm } from '../../src/autograd/functions/matmul.js';
import { defineExercise } from '../harness.js';
import { expectShape, expectTensor, randomTensor } from '../kit.js';

type Impl = typeof import('./matmul-backward.js');

/** A matmul op on the tape whose backward is yours: the forward is the engine's mm, recorded with your closure. */
function myMatmul(impl: Impl, a: Tensor, b: Tensor): Tensor {
  return record('my-matmul', [a, b], mm(a, b), (g) => {
    const out = impl.matmulBackward(a, b, g);
    if (!Array.isArray(out) || out.length !== 2) throw new assert.AssertionError({ message: `matmulBackward returned ${String(out)}; expected [da, db] (an array of two)` });
    const [da, db] = out;
    if (a.requiresGrad) expectShape(`da, the gradient for a [${a.shape.join(', ')}] (g is [${g.shape.join(', ')}])`, da?.shape, a.shape);
    if (b.requiresGrad) expectShape(`db, the gradient for b [${b.shape.join(', ')}] (g is [${g.shape.join(', ')}])`, db?.shape, b.shape);
    return [da, db];
  });
}

const leaf = (shape: number[], seed: number): Tensor => randomTensor(shape, seed).requiresGrad_();

export default defineExercise<Impl>({
  title: 'matmul\'s backward (da = g·bᵀ, db = aᵀ·g), recorded on the tape and checked by finite differences',
  cases: {
    'the shapes: da is [M, K], db is [K, N]': (impl) => {
      const a = leaf([2, 3], 1), b = leaf([3, 4], 2);
      const [da, db] = impl.matmulBackward(a, b, randomTensor([2, 4], 3));
      expectShape('da for a [2, 3], b [3, 4], g [2, 4]', da?.shape, [2, 3]);
      expectShape('db for a [2, 3], b [3, 4], g [2, 4]', db?.shape, [3, 4]);
    },
    'gradcheck: your gradients match finite differences of the forward': (impl) => {
      gradcheck((a, b) => sum(tanh(myMatmul(impl, a!, b!))), [randomTensor([3, 4], 4), randomTensor([4, 2], 5)], { name: 'my-matmul (your backward)' });
    },
    'in a two-layer net on the tape, every gradient matches the engine\'s matmul': (impl) => {
      const run = (mat: (a: Tensor, b: Tensor) => Tensor) => {
        const x = randomTensor([5, 4], 6), w1 = leaf([4, 3], 7), w2 = leaf([3, 2], 8);
        sum(tanh(mat(tanh(mat(x, w1)), w2))).backward();
        return { w1: w1.grad!, w2: w2.grad! };
      };
      const mine = run((a, b) => myMatmul(impl, a, b)), ref = run(matmul);
      expectTensor('w1.grad of sum(tanh(tanh(x·w1)·w2)) with your backward', mine.w1, ref.w1);
      expectTensor('w2.grad of sum(tanh(tanh(x·w1)·w2)) with your backward', mine.w2, ref.w2);
    },
    'an input that needs no gradient gets null (no work for nothing)': (impl) => {
      const x = randomTensor([2, 3], 9), w = leaf([3, 2], 10);
      const [dx, dw] = impl.matmulBackward(x, w, randomTensor([2, 2], 11));
      assert.equal(dx, null, 'a (the data x) does not require a gradient: return null for it');
      expectShape('db', dw?.shape, [3, 2]);
    },
  },
});
