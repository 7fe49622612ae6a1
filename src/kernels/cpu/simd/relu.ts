// ReLU and its gradient without a branch per value, on the float32 bits.
//
// The reference (ref/elementwise.ts) writes `v > 0 ? v : 0`. On activations, about half
// positive in no pattern, the processor mispredicts that branch every other value; this
// version decides with integer arithmetic on the bits instead (bench/README.md has the
// figures). The results are the reference's bit for bit, NaN included.
//
// A float32's bits b, read as an int32: the sign bit is bit 31, so b < 0 exactly for the
// negative numbers (−0 and −Inf included), and |b| = b & 0x7fffffff is above 0x7f800000
// (the bits of +Inf) exactly for a NaN. As masks (−1: all bits set, 0: none):
//   negative(b) = b >> 31                                   (arithmetic shift: −1 or 0)
//   nan(b)      = (0x7f800000 − (b & 0x7fffffff)) >> 31     (−1 for a NaN of either sign)
//   positive(b) = (−b & ~b) >> 31                           (−1 for b > 0: −b < 0 and b ≥ 0)

/** y = relu(x) as the reference: x where x > 0 or x is NaN (NaN propagates), else +0. */
export function reluForward(x: Float32Array, y: Float32Array, n: number): void {
  const xb = bits(x, n), yb = bits(y, n);
  for (let i = 0; i < n; i++) {
    const b = xb[i]!;
    const zero = (b >> 31) & ~((0x7f800000 - (b & 0x7fffffff)) >> 31); // negative and not NaN
    yb[i] = b & ~zero;
  }
}

/** dx = dy where y > 0 (a NaN y is not > 0), else +0: the reference's gradient from the output. */
export function reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
  const yb = bits(y, n), db = bits(dy, n), xb = bits(dx, n);
  for (let i = 0; i < n; i++) {
    const b = yb[i]!;
    const keep = ((-b & ~b) >> 31) & ~((0x7f800000 - (b & 0x7fffffff)) >> 31); // positive and not NaN
    xb[i] = db[i]! & keep;
  }
}

/** The same memory as int32 (the first n values). */
function bits(a: Float32Array, n: number): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, n);
}
