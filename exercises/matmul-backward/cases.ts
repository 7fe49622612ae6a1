// The tests of track task 2, matmul-backward (run: npm run exercise matmul-backward). Your
// matmulBackward is swapped in for the engine's (setMatmulBackward, src/autograd/functions/
// matmul.ts): every matmul op recorded while it is set, the engine's own `matmul`, sends its
// gradients back through your function.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradcheck, matmul, mul, sum, tanh, type Tensor } from '../../src/index.js';
import { setMatmulBackward } from '../../src/autograd/functions/matmul.js';
import { defineExercise } from '../harness.js';
import { expectShape, expectTensor, randomTensor } from '../kit.js';

type Impl = typeof import('./matmul-backward.js');

/** Runs fn with your backward (its result's shapes checked) as the engine's matmul backward, then restores the engine's. */
function withYourBackward<T>(impl: Impl, fn: () => T, calls?: { n: number }): T {
  const engine = setMatmulBackward((a, b, g) => {
    if (calls) calls.n++;
    const out = impl.matmulBackward(a, b, g);
    if (!Array.isArray(out) || out.length !== 2) throw new assert.AssertionError({ message: `matmulBackward returned ${String(out)}; expected [da, db] (an array of two)` });
    const [da, db] = out;
    if (a.requiresGrad) expectShape(`da, the gradient for a [${a.shape.join(', ')}] (g is [${g.shape.join(', ')}])`, da?.shape, a.shape);
    if (b.requiresGrad) expectShape(`db, the gradient for b [${b.shape.join(', ')}] (g is [${g.shape.join(', ')}])`, db?.shape, b.shape);
    return [da, db];
  });
  try {
    return fn();
  } finally {
    setMatmulBackward(engine);
  }
}

const leaf = (shape: number[], seed: number): Tensor => randomTensor(shape, seed).requiresGrad_();

/** The gradients of sum(tanh(tanh(x·w1)·w2)) for w1, w2. */
function twoLayers(seed: number, [n, i, h, o]: number[]): { w1: Tensor; w2: Tensor } {
  const x = randomTensor([n!, i!], seed), w1 = leaf([i!, h!], seed + 1), w2 = leaf([h!, o!], seed + 2);
  sum(tanh(matmul(tanh(matmul(x, w1)), w2))).backward();
  return { w1: w1.grad!, w2: w2.grad! };
}

export default defineExercise<Impl>({
  title: 'matmul\'s backward (da = g·bᵀ, db = aᵀ·g), swapped into the engine\'s matmul and checked by finite differences',
  cases: {
    'the shapes: da is [M, K], db is [K, N]': (impl) => {
      const a = leaf([2, 3], 1), b = leaf([3, 4], 2);
      const [da, db] = impl.matmulBackward(a, b, randomTensor([2, 4], 3));
      expectShape('da for a [2, 3], b [3, 4], g [2, 4]', da?.shape, [2, 3]);
      expectShape('db for a [2, 3], b [3, 4], g [2, 4]', db?.shape, [3, 4]);
    },
    'gradcheck: the engine\'s matmul, with your backward, matches finite differences of the forward': (impl) => {
      const calls = { n: 0 };
      withYourBackward(impl, () => {
        gradcheck((a, b) => sum(tanh(matmul(a!, b!))), [randomTensor([3, 4], 4), randomTensor([4, 2], 5)], { name: 'matmul with your backward' });
      }, calls);
      assert.ok(calls.n > 0, 'your matmulBackward was never called: the engine\'s matmul should send its gradient through it');
    },
    'in a two-layer net on the tape, every gradient matches the engine\'s own backward': (impl) => {
      const mine = withYourBackward(impl, () => twoLayers(6, [5, 4, 3, 2]));
      const ref = twoLayers(6, [5, 4, 3, 2]);
      expectTensor('w1.grad of sum(tanh(tanh(x·w1)·w2)) with your backward', mine.w1, ref.w1);
      expectTensor('w2.grad of sum(tanh(tanh(x·w1)·w2)) with your backward', mine.w2, ref.w2);
    },
    'random shapes (fast-check): a·b used twice, gradients as the engine\'s': (impl) => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 999 }), (M, K, N, seed) => {
        const run = () => {
          const a = leaf([M, K], seed), b = leaf([K, N], seed + 1);
          const y = matmul(a, b);
          sum(mul(y, tanh(y))).backward();
          return { a: a.grad!, b: b.grad! };
        };
        const mine = withYourBackward(impl, run), ref = run();
        expectTensor(`a.grad for a [${M}, ${K}] · b [${K}, ${N}]`, mine.a, ref.a);
        expectTensor(`b.grad for a [${M}, ${K}] · b [${K}, ${N}]`, mine.b, ref.b);
      }), { numRuns: 25 });
    },
    'an input that needs no gradient gets null (no work for nothing)': (impl) => {
      const x = randomTensor([2, 3], 9), w = leaf([3, 2], 10);
      const [dx, dw] = impl.matmulBackward(x, w, randomTensor([2, 2], 11));
      assert.equal(dx, null, 'a (the data x) does not require a gradient: return null for it');
      expectShape('db', dw?.shape, [3, 2]);
    },
  },
});
