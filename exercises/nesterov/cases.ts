// The tests of exercise nesterov (run: npm run exercise nesterov).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tensor } from '../../src/index.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import type { Param, ParamLayer } from '../../src/layers/param.js';
import { defineExercise } from '../harness.js';
import type { Hyper } from './nesterov.js';

type Impl = typeof import('./nesterov.js');

/** The engine's optimizer on one float64 parameter, over the same gradients. */
function engine(p0: readonly number[], grads: readonly (readonly number[])[], h: Hyper, nesterov: boolean): number[] {
  const W: Param = { name: 'W', value: tensor(Float64Array.from(p0), [p0.length], { dtype: 'float64' }), grad: tensor(new Float64Array(p0.length), [p0.length], { dtype: 'float64' }), states: [] };
  const layer: ParamLayer = { name: 'layer', className: 'Linear', computeParamGrads: true, params: () => [W] };
  const opt = new GradientDescentMomentum(h.lr, { momentumCoef: h.mu, wdecay: h.wdecay, nesterov });
  for (const g of grads) {
    W.grad.setValues(g);
    opt.optimize([layer], 0, h.bsz);
  }
  return Array.from(W.value.data);
}

function close(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-12 * (1 + Math.abs(b[i]!)));
}

const caseArb = fc.integer({ min: 1, max: 5 }).chain((n) => fc.record({
  p0: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
  grads: fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 4 }),
  h: fc.record({ lr: fc.double({ min: 0.001, max: 0.5, noNaN: true }), mu: fc.double({ min: 0.1, max: 0.99, noNaN: true }), wdecay: fc.constantFrom(0, 0.0005, 0.01), bsz: fc.integer({ min: 1, max: 8 }) }),
}));

export default defineExercise<Impl>({
  title: 'a reference for neon\'s Nesterov momentum, checked against the optimizer',
  cases: {
    'one step, by hand': ({ nesterovReference }) => {
      // g' = 0.4/2 = 0.2; v = −0.1·0.2 = −0.02; p = 1 + 0.9·(−0.02) − 0.1·0.2 = 0.962.
      const [p] = nesterovReference([1], [[0.4]], { lr: 0.1, mu: 0.9, wdecay: 0, bsz: 2 });
      assert.ok(Math.abs(p! - 0.962) < 1e-15, `got ${p}`);
    },
    'equals GradientDescentMomentum({ nesterov: true }) on random steps (fast-check)': ({ nesterovReference }) => {
      fc.assert(fc.property(caseArb, ({ p0, grads, h }) => close(nesterovReference(p0, grads, h), engine(p0, grads, h, true))), { numRuns: 100, seed: 15 });
    },
    'differs from plain momentum (the check can fail)': ({ nesterovReference }) => {
      const h = { lr: 0.1, mu: 0.9, wdecay: 0.01, bsz: 4 };
      const grads = [[1, -2], [0.5, 0.5], [2, 1]];
      assert.ok(!close(nesterovReference([0.3, -0.7], grads, h), engine([0.3, -0.7], grads, h, false)));
    },
    'does not change its inputs': ({ nesterovReference }) => {
      const p0 = [1, 2], grads = [[0.1, 0.2]];
      nesterovReference(p0, grads, { lr: 0.1, mu: 0.9, wdecay: 0, bsz: 1 });
      assert.deepEqual(p0, [1, 2]);
      assert.deepEqual(grads, [[0.1, 0.2]]);
    },
  },
});
