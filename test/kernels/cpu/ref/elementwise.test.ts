// Elementwise, reduction, copy and bias kernels against their definitions: activations and
// their derivatives (logistic stable for large |x|, ReLU's derivative taken on the output
// and 0 at 0 as neon), binary ops and copies over arbitrary strided views, reductions over
// any axis set (max with first-argmax), and bias add / bias gradient over channels.
import { describe, expect, it } from 'vitest';
import { contiguousStrides } from '../../../../src/tensor/shape.js';
import fc from 'fast-check';
import * as bias from '../../../../src/kernels/cpu/ref/bias.js';
import * as elementwise from '../../../../src/kernels/cpu/ref/elementwise.js';
import * as reductions from '../../../../src/kernels/cpu/ref/reduce.js';

/** The reference kernels these tests call, over host arrays. */
const be = { ...elementwise, ...reductions, ...bias };
import type { BinaryOp, UnaryOp } from '../../../../src/kernels/backend.js';
import { expectClose } from '../../../helpers/check.js';
import { shapeArb, sizeOfShape } from '../../../helpers/arbitraries.js';

const vals = (min: number, max: number) => fc.array(fc.double({ min, max, noNaN: true }), { minLength: 1, maxLength: 50 });

const defs: Record<UnaryOp, { f: (x: number) => number; df: (x: number) => number; lo: number; hi: number }> = {
  neg: { f: (x) => -x, df: () => -1, lo: -10, hi: 10 },
  exp: { f: Math.exp, df: Math.exp, lo: -10, hi: 10 },
  log: { f: Math.log, df: (x) => 1 / x, lo: 1e-3, hi: 100 },
  sqrt: { f: Math.sqrt, df: (x) => 0.5 / Math.sqrt(x), lo: 1e-3, hi: 100 },
  abs: { f: Math.abs, df: (x) => Math.sign(x), lo: -10, hi: 10 },
  relu: { f: (x) => Math.max(x, 0), df: (x) => (x > 0 ? 1 : 0), lo: -10, hi: 10 },
  logistic: { f: (x) => 1 / (1 + Math.exp(-x)), df: (x) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2, lo: -30, hi: 30 },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2, lo: -10, hi: 10 },
};

describe('unary kernels', () => {
  for (const op of Object.keys(defs) as UnaryOp[]) {
    it(`${op}: forward and derivative match the definition`, () => {
      const d = defs[op];
      fc.assert(fc.property(vals(d.lo, d.hi), (xs) => {
        const x = Float64Array.from(xs), y = new Float64Array(x.length), dy = Float64Array.from(xs, (_, i) => (i % 3) - 1.5), dx = new Float64Array(x.length);
        be.unary(op, x, y, x.length);
        expectClose(y, xs.map(d.f), `${op}(x)`, 1e-12, 1e-300);
        be.unaryBackward(op, x, y, dy, dx, x.length);
        // Derivatives taken from the output (logistic: y(1 − y)) lose relative precision where
        // they are tiny, so compare those absolutely.
        expectClose(dx, xs.map((v, i) => dy[i]! * d.df(v)), `${op}'(x)·dy`, 1e-9, op === 'logistic' ? 1e-15 : 1e-300);
      }), { numRuns: 40 });
    });
  }

  it('logistic never overflows: finite values in [0, 1] for |x| up to 1e4, derivative → 0', () => {
    const x = Float64Array.from([-1e4, -800, -50, 0, 50, 800, 1e4]);
    const y = new Float64Array(x.length), dx = new Float64Array(x.length);
    be.unary('logistic', x, y, x.length);
    expectClose(y, [0, 0, 1 / (1 + Math.exp(50)), 0.5, 1 / (1 + Math.exp(-50)), 1, 1], 'logistic at large |x|', 1e-14, 0);
    be.unaryBackward('logistic', x, y, new Float64Array(x.length).fill(1), dx, x.length);
    for (const v of dx) expect(Number.isFinite(v) && v >= 0).toBe(true);
  });

  it('relu: derivative on the output, 0 at 0 (neon); in place (y = x) works', () => {
    const x = Float64Array.from([-1, 0, 2]);
    const dx = new Float64Array(3);
    be.unary('relu', x, x, 3);
    expect(Array.from(x)).toEqual([0, 0, 2]);
    be.unaryBackward('relu', x, x, Float64Array.from([5, 5, 5]), dx, 3);
    expect(Array.from(dx)).toEqual([0, 0, 5]);
  });
});

/** A random strided view over a random-size buffer: shape, strides (maybe 0 = broadcast, maybe negative steps avoided), offset. */
const viewArb = (shape: number[]) => fc.record({
  strides: fc.tuple(...shape.map(() => fc.integer({ min: 0, max: 7 }))),
  offset: fc.nat(5),
}).map(({ strides, offset }) => {
  const extent = shape.reduce((e, d, k) => e + (d - 1) * strides[k]!, 0);
  const data = Float64Array.from({ length: offset + extent + 1 }, (_, i) => Math.sin(i * 1.3) * 3 + (i % 2 ? 0.5 : 1.5));
  return { data, offset, shape, strides: strides as number[] };
});
const element = (v: { data: Float64Array; offset: number; strides: number[] }, idx: number[]) => v.data[v.offset + idx.reduce((p, i, k) => p + i * v.strides[k]!, 0)]!;
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) { idx[k] = i % shape[k]!; i = Math.floor(i / shape[k]!); }
  return idx;
}

describe('binary and copy kernels over strided views', () => {
  const fns: Record<BinaryOp, (a: number, b: number) => number> = {
    add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, max: Math.max, min: Math.min,
    ge: (a, b) => (a >= b ? 1 : 0),
  };
  it('out[i…] = a[i…] ∘ b[i…] for any strides (0 = broadcast) and offsets; copy gathers row-major', () => {
    fc.assert(fc.property(shapeArb(0, 4, 4).chain((shape) => fc.tuple(viewArb(shape), viewArb(shape))), ([a, b]) => {
      const n = sizeOfShape(a.shape);
      for (const op of Object.keys(fns) as BinaryOp[]) {
        const out = new Float64Array(n).fill(NaN);
        be.binary(op, a, b, out);
        expectClose(out, Array.from({ length: n }, (_, i) => fns[op](element(a, unravel(i, a.shape)), element(b, unravel(i, a.shape)))), `binary ${op}`, 0, 0);
      }
      const out = new Float64Array(n);
      be.copy(a, { data: out, offset: 0, shape: a.shape, strides: contiguousStrides(a.shape) });
      expectClose(out, Array.from({ length: n }, (_, i) => element(a, unravel(i, a.shape))), 'copy', 0, 0);
      // and into a strided output: b's view (its strides with broadcast axes made real) receives a's values
      const bStrides = contiguousStrides(a.shape).map((s) => 2 * s);
      const wide = new Float64Array(2 * Math.max(n, 1) + 3).fill(NaN);
      be.copy(a, { data: wide, offset: 3, shape: a.shape, strides: bStrides });
      for (let i = 0; i < n; i++) {
        const idx = unravel(i, a.shape);
        expect(wide[3 + idx.reduce((p, v, k) => p + v * bStrides[k]!, 0)]).toBe(element(a, idx));
      }
    }), { numRuns: 60 });
  });

  it('binaryScalar, both orders', () => {
    fc.assert(fc.property(vals(0.5, 4), fc.double({ min: 0.5, max: 3, noNaN: true }), (xs, s) => {
      const a = Float64Array.from(xs);
      for (const op of Object.keys(fns) as BinaryOp[]) {
        const out = new Float64Array(a.length);
        be.binaryScalar(op, a, s, out, a.length, false);
        expectClose(out, xs.map((v) => fns[op](v, s)), `${op}(a, ${s})`, 0, 0);
        be.binaryScalar(op, a, s, out, a.length, true);
        expectClose(out, xs.map((v) => fns[op](s, v)), `${op}(${s}, a)`, 0, 0);
      }
    }), { numRuns: 30 });
  });
});

describe('reduce kernel', () => {
  it('sum and max over any sorted axis set; argmax is the flat index of the first maximum', () => {
    fc.assert(fc.property(shapeArb(1, 4, 4).chain((shape) => fc.tuple(
      fc.constant(shape),
      fc.subarray(Array.from({ length: shape.length }, (_, k) => k)),
      fc.array(fc.integer({ min: -3, max: 3 }), { minLength: sizeOfShape(shape), maxLength: sizeOfShape(shape) }), // small ints: ties happen
    )), ([shape, axes, xs]) => {
      const kept = shape.map((d, k) => (axes.includes(k) ? 1 : d));
      const m = sizeOfShape(kept);
      const sums = new Array<number>(m).fill(0), maxs = new Array<number>(m).fill(-Infinity), args = new Array<number>(m).fill(-1);
      xs.forEach((v, i) => {
        const o = unravel(i, shape).reduce((p, x, k) => p * kept[k]! + (axes.includes(k) ? 0 : x), 0);
        sums[o]! += v;
        if (v > maxs[o]!) { maxs[o] = v; args[o] = i; }
      });
      const x = Float64Array.from(xs), out = new Float64Array(m), argmax = new Int32Array(m);
      be.reduce('sum', x, shape, axes, out);
      expectClose(out, sums, `sum over ${axes}`, 0, 0);
      be.reduce('max', x, shape, axes, out, argmax);
      expectClose(out, maxs, `max over ${axes}`, 0, 0);
      expect(Array.from(argmax)).toEqual(args);
    }), { numRuns: 60 });
  });
});

describe('bias kernels', () => {
  it('biasAdd adds b[c] over [N, C, HW]; biasBackward sums over N and HW (overwrite or accumulate)', () => {
    fc.assert(fc.property(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 })), fc.nat(), ([N, C, HW], seed) => {
      const x = Float64Array.from({ length: N * C * HW }, (_, i) => Math.sin(i + seed));
      const b = Float64Array.from({ length: C }, (_, c) => c - seed % 5);
      const y = new Float64Array(x.length);
      be.biasAdd(x, b, N, C, HW, y);
      expectClose(y, Array.from(x, (v, i) => v + b[Math.floor(i / HW) % C]!), 'biasAdd', 0, 0);
      const db = new Float64Array(C).fill(100);
      const expected = new Array<number>(C).fill(0);
      x.forEach((v, i) => (expected[Math.floor(i / HW) % C]! += v));
      be.biasBackward(x, N, C, HW, db, false);
      expectClose(db, expected, 'biasBackward (overwrite)', 1e-12, 1e-12);
      be.biasBackward(x, N, C, HW, db, true);
      expectClose(db, expected.map((v) => 2 * v), 'biasBackward (accumulate)', 1e-12, 1e-12);
    }), { numRuns: 40 });
  });
});
