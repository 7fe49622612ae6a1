// The tests of track task 1, backward (run: npm run exercise backward). Your function is
// swapped in for the engine's graph walk (setGraphWalk, src/autograd/graph.ts), so each
// tensor.backward() below, and gradcheck's, runs your code inside the engine; the same graph
// built again from fresh leaves is walked by the engine's own code for comparison.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { add, gradcheck, matmul, mul, relu, sub, sum, tanh, type Tensor } from '../../src/index.js';
import { setGraphWalk } from '../../src/autograd/graph.js';
import { defineExercise } from '../harness.js';
import { expectTensor, randomTensor } from '../kit.js';

type Impl = typeof import('./backward.js');

/** Runs fn with your backward as the engine's graph walk, then puts the engine's back (also when fn throws). */
function withYourBackward<T>(impl: Impl, fn: () => T): T {
  const engine = setGraphWalk(impl.backward);
  try {
    return fn();
  } finally {
    setGraphWalk(engine);
  }
}

type Graph = { root: Tensor; leaves: Record<string, Tensor> };

/** Builds the same graph twice from fresh leaves: root.backward(g) runs your walk on one, the engine's on the other; compares every leaf's .grad. */
function compare(impl: Impl, what: string, build: () => Graph, opts: { prime?: (leaves: Record<string, Tensor>) => void; outputGrad?: (root: Tensor) => Tensor } = {}): void {
  const mine = build(), ref = build();
  opts.prime?.(mine.leaves);
  opts.prime?.(ref.leaves);
  withYourBackward(impl, () => mine.root.backward(opts.outputGrad?.(mine.root)));
  ref.root.backward(opts.outputGrad?.(ref.root));
  for (const [name, leaf] of Object.entries(ref.leaves)) {
    const got = mine.leaves[name]!;
    if (leaf.grad === null) {
      assert.equal(got.grad, null, `${what}: ${name} does not require a gradient, but your backward gave it one`);
      continue;
    }
    if (got.grad === null) throw new assert.AssertionError({ message: `${what}: ${name}.grad is null after your backward; expected the gradient ∂root/∂${name} of shape [${leaf.shape.join(', ')}]` });
    expectTensor(`${what}: ${name}.grad`, got.grad, leaf.grad, 1e-9, 1e-12);
  }
}

const leaf = (shape: number[], seed: number): Tensor => randomTensor(shape, seed).requiresGrad_();

/** Unary and binary steps a random graph is made of (all defined everywhere). */
const unary = [tanh, relu, (t: Tensor) => mul(t, 1.5), (t: Tensor) => mul(t, t)] as const;
const binary = [add, sub, mul] as const;

export default defineExercise<Impl>({
  title: 'backward(): the topological order and gradient accumulation, run by Tensor.backward on real op graphs',
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
      }, { prime: (l) => {
        l.x!.grad = randomTensor([4], 7);
        l.w!.grad = randomTensor([4], 8);
      } });
    },
    'an input that does not require a gradient gets none': (impl) => {
      compare(impl, 'root = sum(x·c), c a constant', () => {
        const x = leaf([3], 9), c = randomTensor([3], 10);
        return { root: sum(mul(x, c)), leaves: { x, c } };
      });
    },
    'a root of many values: root.backward(g) starts from the seed g, not from ones': (impl) => {
      compare(impl, 'root = tanh(x·w) [3, 2], root.backward(g) with a random g', () => {
        const x = leaf([3, 4], 11), w = leaf([4, 2], 12);
        return { root: tanh(matmul(x, w)), leaves: { x, w } };
      }, { outputGrad: () => randomTensor([3, 2], 13) });
    },
    'gradcheck (finite differences against tensor.backward) passes with your backward as the engine\'s': (impl) => {
      withYourBackward(impl, () => {
        gradcheck((x, w) => sum(mul(tanh(matmul(x!, w!)), add(matmul(x!, w!), x!.sum()))), [randomTensor([2, 3], 14), randomTensor([3, 2], 15)], { name: 'x·w graph, your backward' });
      });
    },
    'random graphs over random shapes (fast-check): every leaf\'s gradient as the engine\'s': (impl) => {
      const graph = fc.record({
        rows: fc.integer({ min: 1, max: 4 }), cols: fc.integer({ min: 1, max: 4 }), seed: fc.integer({ min: 1, max: 1000 }),
        // each step: which op, and which earlier tensors (by index, wrapped) it reads
        steps: fc.array(fc.record({ op: fc.nat({ max: unary.length + binary.length - 1 }), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 8 }),
      });
      fc.assert(fc.property(graph, ({ rows, cols, seed, steps }) => {
        const build = (): Graph => {
          const x = leaf([rows, cols], seed), y = leaf([rows, cols], seed + 1), c = randomTensor([rows, cols], seed + 2);
          const made: Tensor[] = [x, y, c];
          for (const s of steps) {
            const a = made[s.a % made.length]!, b = made[s.b % made.length]!;
            made.push(s.op < unary.length ? unary[s.op]!(a) : binary[s.op - unary.length]!(a, b));
          }
          // the root reads every tensor made, so each leaf used anywhere gets a gradient
          return { root: sum(made.slice(3).reduce((acc, t) => add(acc, t), add(x, y))), leaves: { x, y, c } };
        };
        compare(impl, `a random graph of ${steps.length} ops over [${rows}, ${cols}] (steps ${JSON.stringify(steps)})`, build);
      }), { numRuns: 30 });
    },
  },
});
