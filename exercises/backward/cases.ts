// The tests of track task 1, backward (run: npm run exercise backward).
import assert from 'node:assert/strict';
import { add, matmul, mul, relu, sum, tanh, type Tensor } from '../../src/index.js';
import { defineExercise } from '../harness.js';
import { expectTensor, randomTensor } from '../kit.js';

type Impl = typeof import('./backward.js');

/** Builds the same graph twice from fresh leaves: once for your backward, once for the engine's; compares every leaf's .grad. */
function compare(impl: Impl, what: string, build: () => { root: Tensor; leaves: Record<string, Tensor> }, prime?: (leaves: Record<string, Tensor>) => void): Record<string, Tensor> {
  const mine = build(), ref = build();
  prime?.(mine.leaves);
  prime?.(ref.leaves);
  impl.backward(mine.root);
  ref.root.backward();
  for (const [name, leaf] of Object.entries(ref.leaves)) {
    const got = mine.leaves[name]!;
    if (leaf.grad === null) {
      assert.equal(got.grad, null, `${what}: ${name} does not require a gradient, but your backward gave it one`);
      continue;
    }
    if (got.grad === null) throw new assert.AssertionError({ message: `${what}: ${name}.grad is null after your backward; expected the gradient ∂root/∂${name} of shape [${leaf.shape.join(', ')}]` });
    expectTensor(`${what}: ${name}.grad`, got.grad, leaf.grad, 1e-9, 1e-12);
  }
  return mine.leaves;
}

const leaf = (shape: number[], seed: number): Tensor => randomTensor(shape, seed).requiresGrad_();

export default defineExercise<Impl>({
  title: 'backward(): the topological order and gradient accumulation, on real op graphs',
  cases: {
    'a chain: root = sum(relu(x·w))': (impl) => {
      compare(impl, 'root = sum(relu(x·w)), x [3, 4], w [4, 2]', () => {
        const x = leaf([3, 4], 1), w = leaf([4, 2], 2);
        return { root: sum(relu(matmul(x, w))), leaves: { x, w } };
      });
    },
    'a tensor used twice: its gradients add up (root = sum(x·x + x))': (impl) => {
      compare(impl, 'root = sum(x·x + x) (x is an input of mul twice and of add once)', () => {
        const x = leaf([5], 3);
        return { root: sum(add(mul(x, x), x)), leaves: { x } };
      });
    },
    'paths of different length (a diamond): each op\'s backward runs once, with the sum of its gradients': (impl) => {
      const calls = new Map<string, number>();
      const build = () => {
        const x = leaf([2, 3], 4);
        const h = tanh(x); //            h feeds a long path and a short one
        const long = relu(mul(tanh(h), 2));
        const root = sum(mul(add(long, h), h));
        // count the calls of h's backward
        const gf = h.gradFn!;
        h.gradFn = { ...gf, backward: (g) => (calls.set('h', (calls.get('h') ?? 0) + 1), gf.backward(g)) };
        return { root, leaves: { x } };
      };
      compare(impl, 'root = sum((relu(2·tanh(h)) + h)·h), h = tanh(x)', build);
      assert.equal(calls.get('h') ?? 0, 2, `h = tanh(x)'s backward ran ${(calls.get('h') ?? 0) - 1} time(s) in your backward (once in the engine's): run it once, after h has received the gradients from all three of its uses (topological order), with their sum`);
    },
    'a leaf that already holds a gradient: backward adds to it': (impl) => {
      compare(impl, 'root = sum(tanh(x)·w) with x.grad and w.grad already set', () => {
        const x = leaf([4], 5), w = leaf([4], 6);
        return { root: sum(mul(tanh(x), w)), leaves: { x, w } };
      }, (l) => {
        l.x!.grad = randomTensor([4], 7);
        l.w!.grad = randomTensor([4], 8);
      });
    },
    'an input that does not require a gradient gets none': (impl) => {
      compare(impl, 'root = sum(x·c), c a constant', () => {
        const x = leaf([3], 9), c = randomTensor([3], 10);
        return { root: sum(mul(x, c)), leaves: { x, c } };
      });
    },
  },
});
