// Gradients of matmul, linear, softmax / logSoftmax over random axes, the neon costs
// (crossEntropyBinary, crossEntropyMulti, sumSquared), dropout in both modes and both
// phases, and biasAdd; inputs as given, through a permute, and as sliced views.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import {
  biasAdd, crossEntropyBinary, crossEntropyMulti, dropout, linear, logSoftmax, matmul, mul, slice, softmax, sumSquared,
} from '../../src/index.js';
import { shapeArb, specArb, type Domain } from '../helpers/arbitraries.js';
import { checkOp, withViews } from '../helpers/check.js';

const dim = (max = 5) => fc.integer({ min: 1, max });

describe('matmul and linear: analytic = numeric gradients', () => {
  it('matmul [M, K]·[K, N], odd sizes, transposed views through permute', () => {
    fc.assert(fc.property(withViews(fc.tuple(dim(), dim(), dim()).chain(([M, K, N]) => fc.tuple(specArb([M, K]), specArb([K, N])).map((inputs) => ({ inputs })))), (c) => {
      checkOp(`matmul [${c.inputs[0]!.shape}]·[${c.inputs[1]!.shape}]`, matmul, c);
    }), { numRuns: 40 });
  });

  it('matmul of column slices (row stride larger than the row: leading dimension > width)', () => {
    fc.assert(fc.property(withViews(fc.record({ M: dim(), K: dim(), N: dim(), extraA: dim(3), extraB: dim(3), offA: fc.nat(2), offB: fc.nat(2) })
      .chain((p) => fc.tuple(specArb([p.M, p.K + p.extraA + p.offA]), specArb([p.K, p.N + p.extraB + p.offB])).map((inputs) => ({ p, inputs })))), (c) => {
      const { K, N, offA, offB } = c.p;
      checkOp('matmul(slice, slice)', (a, b) => matmul(slice(a, offA, offA + K, 1), slice(b, offB, offB + N, 1)), c);
    }), { numRuns: 25 });
  });

  it('linear x [N, in] · wᵀ (+ b), with and without bias', () => {
    fc.assert(fc.property(withViews(fc.record({ N: dim(), I: dim(6), O: dim(), bias: fc.boolean() })
      .chain((p) => fc.tuple(...[[p.N, p.I], [p.O, p.I], ...(p.bias ? [[p.O]] : [])].map((s) => specArb(s))).map((inputs) => ({ p, inputs })))), (c) => {
      checkOp(`linear N ${c.p.N} in ${c.p.I} out ${c.p.O}${c.p.bias ? ' + bias' : ''}`, (x, w, b) => linear(x, w, b ?? null), c);
    }), { numRuns: 40 });
  });

  it('x used twice: matmul(x, xᵀ-shaped weight) and linear(x, x)', () => {
    fc.assert(fc.property(withViews(fc.tuple(dim(), dim()).chain(([N, I]) => fc.tuple(specArb([N, I])).map((inputs) => ({ inputs })))), (c) => {
      checkOp('linear(x, x)', (x) => linear(x, x), c);
    }), { numRuns: 20 });
  });
});

describe('softmax and logSoftmax over random axes', () => {
  const caseArb = withViews(shapeArb(1, 4, 4).chain((shape) => fc.record({
    inputs: fc.tuple(specArb(shape, 'real')),
    axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
  })));
  it('softmax', () => {
    fc.assert(fc.property(caseArb, (c) => checkOp(`softmax(axis ${c.axis})`, (x) => softmax(x, c.axis), c)), { numRuns: 40 });
  });
  it('logSoftmax', () => {
    fc.assert(fc.property(caseArb, (c) => checkOp(`logSoftmax(axis ${c.axis})`, (x) => logSoftmax(x, c.axis), c)), { numRuns: 40 });
  });
  it('large logits (|x| up to 60) stay finite and differentiable', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const big = { ...c, inputs: c.inputs.map((s) => ({ ...s, values: s.values.map((v) => v * 30) })) };
      checkOp(`logSoftmax(30·x, axis ${c.axis})`, (x) => logSoftmax(x, c.axis), big, { rtol: 1e-4, atol: 1e-5 });
    }), { numRuns: 15 });
  });
});

describe('neon costs: gradients with respect to the outputs', () => {
  function costCase(yDomain: Domain, tDomain: Domain) {
    return withViews(fc.tuple(dim(4), dim(5)).chain(([N, K]) => fc.tuple(specArb([N, K], yDomain), specArb([N, K], tDomain)).map((inputs) => ({ inputs }))));
  }
  const binaryT = costCase('unit', 'prob'); // soft targets in [0, 1]
  it('crossEntropyBinary (soft and hard targets)', () => {
    fc.assert(fc.property(binaryT, fc.boolean(), (c, hard) => {
      const cc = hard ? { ...c, inputs: [c.inputs[0]!, { ...c.inputs[1]!, values: c.inputs[1]!.values.map((v) => (v < 0.5 ? 0 : 1)) }] } : c;
      checkOp('crossEntropyBinary', crossEntropyBinary, cc, { wrt: [0] });
    }), { numRuns: 40 });
  });
  it('crossEntropyMulti', () => {
    fc.assert(fc.property(costCase('unit', 'prob'), (c) => checkOp('crossEntropyMulti', crossEntropyMulti, c, { wrt: [0] })), { numRuns: 40 });
  });
  it('sumSquared', () => {
    fc.assert(fc.property(costCase('real', 'real'), (c) => checkOp('sumSquared', sumSquared, c, { wrt: [0] })), { numRuns: 40 });
  });
  it('softmax → crossEntropyMulti and softmax → crossEntropyBinary end to end', () => {
    fc.assert(fc.property(costCase('real', 'prob'), (c) => {
      checkOp('crossEntropyMulti(softmax(z))', (z, t) => crossEntropyMulti(softmax(z, 1), t), c, { wrt: [0] });
      checkOp('crossEntropyBinary(softmax(z))', (z, t) => crossEntropyBinary(softmax(z, 1), t), c, { wrt: [0] });
    }), { numRuns: 20 });
  });
});

describe('dropout (gradcheck resets the generator before each evaluation, so the mask is fixed)', () => {
  const caseArb = withViews(shapeArb(1, 4, 4).chain((shape) => fc.record({ inputs: fc.tuple(specArb(shape)), keep: fc.double({ min: 0.2, max: 1, noNaN: true }) })));
  for (const mode of ['neon', 'caffe'] as const) {
    for (const training of [true, false]) {
      it(`${mode} mode, ${training ? 'training' : 'inference'}`, () => {
        fc.assert(fc.property(caseArb, (c) => {
          // ×x makes the output depend on x even where dropout is the identity (caffe inference).
          checkOp(`dropout(keep ${c.keep}, ${mode}, training ${training})`, (x) => mul(dropout(x, c.keep, { mode, training }), x), c);
        }), { numRuns: 25 });
      });
    }
  }
});

describe('biasAdd over the channel axis', () => {
  it('x [N, C, ...spatial] + b [C]', () => {
    fc.assert(fc.property(withViews(fc.tuple(dim(3), dim(4), shapeArb(0, 2, 4)).chain(([N, C, spatial]) =>
      fc.tuple(specArb([N, C, ...spatial]), specArb([C])).map((inputs) => ({ inputs })))), (c) => {
      checkOp(`biasAdd x [${c.inputs[0]!.shape}]`, (x, b) => mul(biasAdd(x, b), x), c);
    }), { numRuns: 40 });
  });
});
