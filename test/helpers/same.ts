// Bit-for-bit comparison of large arrays with a short failure: vitest's toEqual on arrays of
// 200k values renders a diff of every element, which turns one wrong value into a stall
// of minutes. This compares with Object.is (NaN equals NaN, +0 and -0 differ) and reports
// the first differing index, both values and how many differ.

/** The first index where `a` and `b` differ (Object.is), and how many differ; null when equal. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): { index: number; count: number } | null {
  const n = Math.min(a.length, b.length);
  let index = -1, count = Math.abs(a.length - b.length);
  for (let i = 0; i < n; i++) {
    if (!Object.is(a[i], b[i])) {
      if (index < 0) index = i;
      count++;
    }
  }
  if (index < 0 && a.length !== b.length) index = n;
  return index < 0 ? null : { index, count };
}

/** Throws unless `actual` equals `expected` value for value (Object.is), naming the first difference and the count. */
export function expectSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const d = firstDifference(actual, expected);
  if (!d) return;
  const len = actual.length === expected.length ? `${actual.length} values` : `${actual.length} values, expected ${expected.length}`;
  throw new Error(`${what}: ${d.count} of ${len} differ; the first at index ${d.index}: ${actual[d.index]} (expected ${expected[d.index]})`);
}
