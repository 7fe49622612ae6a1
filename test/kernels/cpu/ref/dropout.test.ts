// Dropout in neon's two modes (neon/layers/layer.py; docs/neon-notes.md#dropout):
//   neon (default): training y = mask ⊙ x (no rescale), inference y = keep · x, δ = mask ⊙ δ
//   caffe:          training y = mask ⊙ x / keep,      inference y = x,        δ = mask ⊙ δ / keep
// and the fraction of kept units ≈ keep on a large tensor.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dropout, manualSeed, tensor, uniform } from '../../../../src/index.js';

const keepArb = fc.double({ min: 0.05, max: 1, noNaN: true });
const xArb = fc.integer({ min: 1, max: 200 }).chain((n) => fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }).chain((v) => fc.constantFrom(v, -v)), { minLength: n, maxLength: n }));

describe('dropout modes', () => {
  it('neon training: each y is x (kept) or 0 (dropped), never rescaled; backward masks the gradient the same way', () => {
    fc.assert(fc.property(xArb, keepArb, fc.nat(), (xs, keep, seed) => {
      manualSeed(seed);
      const x = tensor(Float64Array.from(xs), [xs.length], { dtype: 'float64', requiresGrad: true });
      const y = dropout(x, keep, { mode: 'neon', training: true });
      const mask = Array.from(y.data, (v, i) => {
        if (v === xs[i]) return 1;
        if (v === 0) return 0;
        throw new Error(`neon dropout (keep ${keep}): y[${i}] = ${v} is neither x = ${xs[i]} nor 0`);
      });
      const g = xs.map((_, i) => i + 1);
      y.backward(g);
      expect(Array.from(x.grad!.data)).toEqual(g.map((v, i) => v * mask[i]!));
    }), { numRuns: 60 });
  });

  it('caffe training: each y is x / keep or 0; backward is mask ⊙ δ / keep', () => {
    fc.assert(fc.property(xArb, keepArb, fc.nat(), (xs, keep, seed) => {
      manualSeed(seed);
      const x = tensor(Float64Array.from(xs), [xs.length], { dtype: 'float64', requiresGrad: true });
      const y = dropout(x, keep, { mode: 'caffe', training: true });
      const mask = Array.from(y.data, (v, i) => {
        if (Math.abs(v - xs[i]! / keep) <= 1e-12 * Math.abs(v)) return 1;
        if (v === 0) return 0;
        throw new Error(`caffe dropout (keep ${keep}): y[${i}] = ${v} is neither x / keep = ${xs[i]! / keep} nor 0`);
      });
      y.backward(xs.map(() => 1));
      Array.from(x.grad!.data).forEach((v, i) => expect(v).toBeCloseTo(mask[i]! / keep, 12));
    }), { numRuns: 60 });
  });

  it('the same seed gives the same mask in both modes (mask = rand < keep)', () => {
    fc.assert(fc.property(xArb, keepArb, fc.nat(), (xs, keep, seed) => {
      const x = tensor(Float64Array.from(xs), [xs.length], { dtype: 'float64' });
      manualSeed(seed);
      const a = dropout(x, keep, { mode: 'neon' }).data;
      manualSeed(seed);
      const b = dropout(x, keep, { mode: 'caffe' }).data;
      manualSeed(seed);
      const r = uniform([xs.length], 0, 1, { dtype: 'float64' }).data;
      xs.forEach((_, i) => {
        expect(a[i] !== 0).toBe(b[i] !== 0);
        expect(a[i] !== 0).toBe(r[i]! < keep);
      });
    }), { numRuns: 40 });
  });

  it('inference: neon scales by keep, caffe is the identity; neither draws random numbers', () => {
    fc.assert(fc.property(xArb, keepArb, (xs, keep) => {
      const x = tensor(Float64Array.from(xs), [xs.length], { dtype: 'float64' });
      manualSeed(1);
      expect(Array.from(dropout(x, keep, { mode: 'neon', training: false }).data)).toEqual(xs.map((v) => v * keep));
      expect(Array.from(dropout(x, keep, { mode: 'caffe', training: false }).data)).toEqual(xs);
      const after = uniform([1]).item();
      manualSeed(1);
      expect(uniform([1]).item()).toBe(after);
    }), { numRuns: 40 });
  });

  it('the kept fraction is ≈ keep on a large tensor (within 5 standard deviations)', () => {
    const n = 200_000;
    const x = tensor(new Float32Array(n).fill(1), [n]);
    for (const keep of [0.1, 0.5, 0.8, 0.95]) {
      manualSeed(Math.round(keep * 100));
      let kept = 0;
      for (const v of dropout(x, keep).data) kept += v / n;
      expect(Math.abs(kept - keep)).toBeLessThan(5 * Math.sqrt((keep * (1 - keep)) / n));
    }
    expect(Array.from(dropout(x, 1).data.subarray(0, 5))).toEqual([1, 1, 1, 1, 1]);
  });
});
