import { describe, expect, it } from 'vitest';
import { expectSameValues, firstDifference } from '../helpers/same.js';

describe('expectSameValues (test/helpers/same.ts)', () => {
  it('names the first differing index, both values and the count, quickly on large arrays', () => {
    const a = new Float32Array(300_000).map((_, i) => i);
    const b = a.slice();
    expect(firstDifference(a, b)).toBeNull();
    b[1234] = -1;
    b[200_000] = NaN;
    const t0 = performance.now();
    expect(() => expectSameValues(a, b, 'big')).toThrow('big: 2 of 300000 values differ; the first at index 1234: 1234 (expected -1)');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(firstDifference([NaN, 0], [NaN, 0])).toBeNull();
    expect(firstDifference([0], [-0])).toEqual({ index: 0, count: 1 });
    expect(firstDifference([1, 2], [1, 2, 3])).toEqual({ index: 2, count: 1 });
  });
});
