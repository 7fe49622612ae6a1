// Gradients of reductions (sum/mean/max over random axes, keepdims true/false; max on
// distinct values) and of the shape ops (reshape, view, flatten, permute, transpose,
// contiguous, slice), over random shapes and non-contiguous inputs.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { contiguous, flatten, max, mean, mul, permute, reshape, slice, sum, transpose, view } from '../../src/index.js';
import { permutationArb, shapeArb, specArb, type Domain, type Shape } from '../helpers/arbitraries.js';
import { checkOp, withViews } from '../helpers/check.js';

/** Axes to reduce: undefined (all), one axis (maybe negative), or a random subset (maybe with negative aliases). */
function axesArb(rank: number): fc.Arbitrary<number | number[] | undefined> {
  if (rank === 0) return fc.constant(undefined);
  return fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: -rank, max: rank - 1 }),
    fc.subarray(Array.from({ length: rank }, (_, k) => k)).chain((ax) => fc.tuple(...ax.map((a) => fc.constantFrom(a, a - rank)))),
  );
}

function reduceCase(domain: Domain) {
  return withViews(shapeArb(0, 4, 4).chain((shape) => fc.record({ inputs: fc.tuple(specArb(shape, domain)), axes: axesArb(shape.length), keepdims: fc.boolean() })));
}

describe('reductions: analytic = numeric gradients over random axes', () => {
  const ops: [string, typeof sum, Domain][] = [['sum', sum, 'real'], ['mean', mean, 'real'], ['max', max, 'distinct']];
  for (const [name, op, domain] of ops) {
    it(`${name} (keepdims true/false)`, () => {
      fc.assert(fc.property(reduceCase(domain), (c) => {
        checkOp(`${name}(axes ${JSON.stringify(c.axes)}, keepdims ${c.keepdims})`, (x) => op(x, c.axes, c.keepdims), c);
      }), { numRuns: 40 });
    });
  }

  it('reductions chained: sum(max(x, a1) · mean(x, a2)) with keepdims broadcasting back', () => {
    fc.assert(fc.property(withViews(shapeArb(1, 3, 4).chain((shape) => fc.record({
      inputs: fc.tuple(specArb(shape, 'distinct')),
      a1: fc.integer({ min: 0, max: shape.length - 1 }),
      a2: fc.integer({ min: 0, max: shape.length - 1 }),
    }))), (c) => {
      checkOp('max·mean', (x) => sum(mul(max(x, c.a1, true), mean(x, c.a2, true))), c);
    }), { numRuns: 20 });
  });
});

/** A shape with the same number of elements: the prime factors of the size regrouped at random. */
function sameSizeShapeArb(size: number): fc.Arbitrary<Shape> {
  const factors: number[] = [];
  for (let n = size, p = 2; n > 1; ) {
    if (n % p === 0) { factors.push(p); n /= p; } else p++;
  }
  return fc.record({ slots: fc.integer({ min: 1, max: 4 }), perm: permutationArb(factors.length), seed: fc.array(fc.nat(), { minLength: factors.length, maxLength: factors.length }), ones: fc.array(fc.boolean(), { maxLength: 2 }) })
    .map(({ slots, perm, seed, ones }) => {
      const dims = new Array<number>(slots).fill(1);
      perm.forEach((f, i) => (dims[seed[i]! % slots]! *= factors[f]!));
      for (const atEnd of ones) atEnd ? dims.push(1) : dims.unshift(1);
      return dims;
    });
}

describe('shape ops: analytic = numeric gradients', () => {
  const anyShape = (min = 0, max = 4) => shapeArb(min, max, 4);

  it('reshape (to a random shape of the same size, sometimes with -1)', () => {
    fc.assert(fc.property(withViews(anyShape().chain((shape) => fc.record({
      inputs: fc.tuple(specArb(shape)),
      target: sameSizeShapeArb(shape.reduce((p, d) => p * d, 1)),
      infer: fc.boolean(),
    }))), (c) => {
      const target = c.infer && c.target.length > 0 ? c.target.map((d, i) => (i === 0 ? -1 : d)) : c.target;
      checkOp(`reshape to ${JSON.stringify(target)}`, (x) => mul(reshape(x, target), reshape(x, target)), c);
    }), { numRuns: 30 });
  });

  it('view of a contiguous tensor, and flatten', () => {
    fc.assert(fc.property(withViews(anyShape(1).chain((shape) => fc.record({
      inputs: fc.tuple(specArb(shape)),
      target: sameSizeShapeArb(shape.reduce((p, d) => p * d, 1)),
      start: fc.integer({ min: 0, max: shape.length - 1 }),
    }))), (c) => {
      // view needs a contiguous input: through a permute it gets one from contiguous().
      checkOp(`view as ${JSON.stringify(c.target)}`, (x) => mul(view(contiguous(x), c.target), 2), c);
      checkOp(`flatten from axis ${c.start}`, (x) => flatten(x, c.start), c);
    }), { numRuns: 25 });
  });

  it('permute, transpose, contiguous (and chains of them)', () => {
    fc.assert(fc.property(withViews(anyShape(1).chain((shape) => fc.record({
      inputs: fc.tuple(specArb(shape)),
      order: permutationArb(shape.length),
      a: fc.integer({ min: -shape.length, max: shape.length - 1 }),
      b: fc.integer({ min: -shape.length, max: shape.length - 1 }),
    }))), (c) => {
      checkOp(`permute ${JSON.stringify(c.order)}`, (x) => permute(x, c.order), c);
      checkOp(`transpose(${c.a}, ${c.b})`, (x) => transpose(x, c.a, c.b), c);
      checkOp('contiguous(permute)', (x) => mul(contiguous(permute(x, c.order)), contiguous(permute(x, c.order))), c);
      checkOp('transpose(transpose)', (x) => transpose(transpose(x, c.a, c.b), c.b, c.a), c);
    }), { numRuns: 25 });
  });

  it('slice along a random axis (including empty and full ranges, and slices of slices)', () => {
    fc.assert(fc.property(withViews(anyShape(1).chain((shape) => fc.integer({ min: 0, max: shape.length - 1 }).chain((axis) => fc.record({
      inputs: fc.tuple(specArb(shape)),
      axis: fc.constant(axis),
      range: fc.tuple(fc.integer({ min: 0, max: shape[axis]! }), fc.integer({ min: 0, max: shape[axis]! })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
    })))), (c) => {
      const [s, e] = c.range;
      checkOp(`slice [${s}, ${e}) on axis ${c.axis}`, (x) => mul(sum(slice(x, s, e, c.axis)), x), c);
      if (e > s) checkOp('slice of a slice', (x) => slice(slice(x, s, e, c.axis), 0, e - s - (e - s > 1 ? 1 : 0), c.axis), c);
    }), { numRuns: 30 });
  });
});
