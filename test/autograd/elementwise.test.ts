// Gradients of the elementwise ops: binary ops with numpy broadcasting over random
// broadcast-compatible shape pairs, scalar forms, and unary functions with their inputs
// shifted into safe domains (log/sqrt of positives, relu/abs away from the kink at 0).
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { abs, add, div, exp, log, logistic, maximum, mul, neg, relu, rsub, sqrt, sub, tanh, type Tensor } from '../../src/index.js';
import { broadcastPairArb, specArb, tensorSpecArb, type Domain } from '../helpers/arbitraries.js';
import { checkOp, withViews } from '../helpers/check.js';

function pairCase(da: Domain, db: Domain) {
  return withViews(broadcastPairArb(4, 4).chain(([sa, sb]) => fc.tuple(specArb(sa, da), specArb(sb, db)).map((inputs) => ({ inputs }))));
}

describe('binary ops with broadcasting: analytic = numeric gradients', () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, Domain, Domain][] = [
    ['add', add, 'real', 'real'],
    ['sub', sub, 'real', 'real'],
    ['mul', mul, 'real', 'real'],
    ['div', div, 'real', 'positive'],
    ['div (negative denominators)', (a, b) => div(a, neg(b)), 'real', 'positive'],
    ['maximum', maximum, 'grid', 'offgrid'],
  ];
  for (const [name, fn, da, db] of cases) {
    it(name, () => {
      fc.assert(fc.property(pairCase(da, db), (c) => checkOp(name, fn, c)), { numRuns: 30 });
    });
  }

  it('the same tensor on both sides (a ∘ a) accumulates both gradients', () => {
    fc.assert(fc.property(withViews(tensorSpecArb(0, 3, 4, 'positive').map((s) => ({ inputs: [s] }))), (c) => {
      checkOp('mul(a, a)', (a) => mul(a, a), c);
      checkOp('div(a, a) + a', (a) => add(div(a, a), a), c);
    }), { numRuns: 20 });
  });
});

describe('scalar forms', () => {
  const scalar = fc.double({ min: -3, max: 3, noNaN: true }).filter((s) => Math.abs(s) > 0.1);
  it('add/sub/mul/div by a scalar and rsub', () => {
    fc.assert(fc.property(withViews(tensorSpecArb(0, 4, 4).map((s) => ({ inputs: [s] }))), scalar, (c, s) => {
      checkOp(`add(x, ${s})`, (x) => add(x, s), c);
      checkOp(`sub(x, ${s})`, (x) => sub(x, s), c);
      checkOp(`mul(x, ${s})`, (x) => mul(x, s), c);
      checkOp(`div(x, ${s})`, (x) => div(x, s), c);
      checkOp(`rsub(${s}, x)`, (x) => rsub(s, x), c);
    }), { numRuns: 20 });
  });
});

describe('unary ops: analytic = numeric gradients', () => {
  const cases: [string, (x: Tensor) => Tensor, Domain][] = [
    ['neg', neg, 'real'],
    ['exp', exp, 'real'],
    ['log', log, 'positive'],
    ['sqrt', sqrt, 'positive'],
    ['abs', abs, 'nonzero'],
    ['relu', relu, 'nonzero'],
    ['logistic', logistic, 'real'],
    ['tanh', tanh, 'real'],
  ];
  for (const [name, fn, domain] of cases) {
    it(name, () => {
      fc.assert(fc.property(withViews(tensorSpecArb(0, 4, 4, domain).map((s) => ({ inputs: [s] }))), (c) => checkOp(name, fn, c)), { numRuns: 30 });
    });
  }

  it('compositions: log(logistic(x)), tanh(exp(x)) · x, sqrt(x·x + 1)', () => {
    fc.assert(fc.property(withViews(tensorSpecArb(1, 3, 4).map((s) => ({ inputs: [s] }))), (c) => {
      checkOp('log(logistic(x))', (x) => log(logistic(x)), c);
      checkOp('tanh(exp(x))·x', (x) => mul(tanh(exp(x)), x), c);
      checkOp('sqrt(x·x + 1)', (x) => sqrt(add(mul(x, x), 1)), c);
    }), { numRuns: 15 });
  });
});
