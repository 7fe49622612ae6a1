// Non-finite values (NaN, +Inf, -Inf) in data, means and weights: found once, counted, and
// described in a message, so that no layer downstream turns them into NaN outputs quietly
// (an inference file of [NaN, NaN] rows with an accuracy printed above it).

/** How many non-finite values a range holds, of which kind, and where the first one is. */
export interface NonFiniteCount {
  count: number;
  nan: number;
  posInf: number;
  negInf: number;
  /** Index (from the start of the array) of the first non-finite value. */
  first: number;
}

/** The non-finite values of `a[start, end)`, or null when every value is finite. */
export function countNonFinite(a: ArrayLike<number>, start = 0, end = a.length): NonFiniteCount | null {
  let i = start;
  // fast scan: v - v is 0 for every finite v and NaN for NaN and ±Inf
  while (i < end && a[i]! - a[i]! === 0) i++;
  if (i >= end) return null;
  const r: NonFiniteCount = { count: 0, nan: 0, posInf: 0, negInf: 0, first: i };
  for (; i < end; i++) {
    const v = a[i]!;
    if (v - v === 0) continue;
    r.count++;
    if (Number.isNaN(v)) r.nan++;
    else if (v > 0) r.posInf++;
    else r.negInf++;
  }
  return r;
}

/** True when every value of `a` is finite. */
export function allFinite(a: ArrayLike<number>): boolean {
  return countNonFinite(a) === null;
}

/** "1 NaN", "3 non-finite values (2 NaN, 1 +Inf)". */
export function describeNonFinite(c: NonFiniteCount): string {
  const kinds = ([[c.nan, 'NaN'], [c.posInf, '+Inf'], [c.negInf, '-Inf']] as const).filter(([n]) => n > 0);
  if (kinds.length === 1) return `${c.count} ${kinds[0]![1]}`;
  return `${c.count} non-finite values (${kinds.map(([n, k]) => `${n} ${k}`).join(', ')})`;
}
