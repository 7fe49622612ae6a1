import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allFinite, countNonFinite, describeNonFinite } from '../../src/util/finite.js';

describe('countNonFinite', () => {
  it('counts NaN, +Inf and -Inf in a range and finds the first', () => {
    const a = Float32Array.from([1, NaN, 2, Infinity, -Infinity, NaN, 3]);
    expect(countNonFinite(a)).toEqual({ count: 4, nan: 2, posInf: 1, negInf: 1, first: 1 });
    expect(countNonFinite(a, 2, 4)).toEqual({ count: 1, nan: 0, posInf: 1, negInf: 0, first: 3 });
    expect(countNonFinite(a, 6)).toBeNull();
    expect(countNonFinite([], 0)).toBeNull();
    expect(describeNonFinite(countNonFinite(a)!)).toBe('4 non-finite values (2 NaN, 1 +Inf, 1 -Inf)');
    expect(describeNonFinite(countNonFinite([NaN])!)).toBe('1 NaN');
    expect(describeNonFinite(countNonFinite([-Infinity, -Infinity])!)).toBe('2 -Inf');
  });

  it('agrees with Number.isFinite on any array (largest finite floats included)', () => {
    const v = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE, 3.4028234663852886e38));
    fc.assert(fc.property(fc.array(v, { maxLength: 40 }), (xs) => {
      const n = xs.filter((x) => !Number.isFinite(x)).length;
      const c = countNonFinite(xs);
      expect(c?.count ?? 0).toBe(n);
      expect(allFinite(xs)).toBe(n === 0);
      if (c) expect(c.first).toBe(xs.findIndex((x) => !Number.isFinite(x)));
    }));
  });
});
