// The engine's one seedable generator: manualSeed(n) twice gives the same uniform and
// normal tensors (and dropout masks), state get/set resumes a stream exactly, and the
// draws have the right ranges and moments.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dropout, Generator, manualSeed, normal, ones, rng, uniform } from '../../src/index.js';

const shape = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 });

describe('seeded generator', () => {
  it('manualSeed(n) twice gives the same uniform and normal tensors and dropout masks', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), shape, (seed, s) => {
      manualSeed(seed);
      const u1 = uniform(s, -2, 3), n1 = normal(s, 1, 0.5, { dtype: 'float64' }), d1 = dropout(ones(s), 0.5);
      manualSeed(seed);
      const u2 = uniform(s, -2, 3), n2 = normal(s, 1, 0.5, { dtype: 'float64' }), d2 = dropout(ones(s), 0.5);
      expect(Array.from(u1.data)).toEqual(Array.from(u2.data));
      expect(Array.from(n1.data)).toEqual(Array.from(n2.data));
      expect(Array.from(d1.data)).toEqual(Array.from(d2.data));
    }), { numRuns: 30 });
  });

  it('different seeds give different streams', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 1000 }), (seed, delta) => {
      manualSeed(seed);
      const a = Array.from(uniform([16]).data);
      manualSeed(seed + delta);
      const b = Array.from(uniform([16]).data);
      expect(a).not.toEqual(b);
    }), { numRuns: 30 });
  });

  it('getState / setState resume the stream exactly (checkpoint and restore)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(50), (seed, skip) => {
      manualSeed(seed);
      uniform([skip + 1]);
      const state = rng.getState();
      expect(state).toHaveLength(4);
      const a = Array.from(normal([7], 0, 1, { dtype: 'float64' }).data);
      rng.setState(state);
      const b = Array.from(normal([7], 0, 1, { dtype: 'float64' }).data);
      expect(b).toEqual(a);
      // A separate Generator with the same state produces the same stream.
      const g = new Generator();
      g.setState(state);
      expect(Array.from({ length: 7 }, () => g.normal())).toEqual(a);
    }), { numRuns: 30 });
    expect(() => rng.setState([0, 0, 0, 0])).toThrow(/four 32-bit words, not all zero/);
    expect(() => rng.setState([1, 2, 3])).toThrow(/four 32-bit words/);
  });

  it('uniform lies in [low, high); normal has the requested mean and std; permutation is a permutation', () => {
    manualSeed(12345);
    const n = 100_000;
    const u = uniform([n], -1, 3, { dtype: 'float64' }).data;
    let mu = 0, outside = 0;
    for (const v of u) {
      if (!(v >= -1 && v < 3)) outside++;
      mu += v / n;
    }
    expect(outside).toBe(0);
    expect(Math.abs(mu - 1)).toBeLessThan(5 * Math.sqrt(16 / 12 / n));
    const z = normal([n], 2, 3, { dtype: 'float64' }).data;
    let m = 0, s2 = 0;
    for (const v of z) m += v / n;
    for (const v of z) s2 += (v - m) ** 2 / (n - 1);
    expect(Math.abs(m - 2)).toBeLessThan(5 * 3 / Math.sqrt(n));
    expect(Math.abs(Math.sqrt(s2) - 3)).toBeLessThan(5 * 3 / Math.sqrt(2 * n));
    const g = new Generator(3);
    const p = Array.from(g.permutation(50)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const ks = Array.from({ length: 1000 }, () => g.randint(7));
    expect(ks.every((k) => Number.isInteger(k) && k >= 0 && k < 7)).toBe(true);
    expect(new Set(ks).size).toBe(7);
  });
});
