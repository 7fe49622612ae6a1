// What every gpu.js kernel source of the GPU backend shares, and the storage kernels
// (placing, filling, slicing, splicing buffers). A kernel source is a plain function in
// gpu.js's JavaScript subset over a 1-D output (see ../device.ts, trap 2); `$name` stands for
// `this.constants.name` (compiled in: loop bounds from constants are not capped at
// loopMaxIterations, trap 1). Values and indices are float32 in every mode: integer
// division goes through `idiv`, which corrects the rounding of a float division (GLSL's
// division is not correctly rounded), exact for indices below 2^24.

/** floor(i / c) for integer-valued i (any sign) and c > 0. */
export function idiv(i: number, c: number): number {
  let q = Math.floor((i + 0.5) / c);
  const r = i - q * c;
  if (r < 0) {
    q = q - 1;
  }
  if (r >= c) {
    q = q + 1;
  }
  return q;
}

/** A kernel source with `$x` written out as `this.constants.x`. */
export function withConstants(s: string): string {
  return s.replace(/\$(\w+)/g, 'this.constants.$1');
}

// ---- Storage -----------------------------------------------------------------------------

/** out = r placed as a rows×cols block at off (row stride ld) over old, elsewhere old. */
export const PLACE = withConstants(`function(old, r) {
  const t = this.thread.x;
  const rel = t - $off;
  if (rel < 0) { return old[t]; }
  const i = idiv(rel, $ld);
  const j = rel - i * $ld;
  if (i >= $rows || j >= $cols) { return old[t]; }
  return r[i * $cols + j];
}`);

/** old with [off, end) set to value. `this.thread.x` is used directly against integer constants (strictIntegers): exact past 2^24 on GL. */
export const FILL = withConstants(`function(old) {
  if (this.thread.x >= $off && this.thread.x < $end) { return $value; }
  return old[this.thread.x];
}`);

/** m values of a from off: a window of a texture (run under strictIntegers: integer index arithmetic). */
export const SLICE = withConstants(`function(a) { return a[this.thread.x + $off]; }`);

/** old with [s, e) replaced by r[0 .. e − s) (strictIntegers: integer comparisons and index arithmetic). */
export const SPLICE = withConstants(`function(old, r) {
  if (this.thread.x >= $s && this.thread.x < $e) { return r[this.thread.x - $s]; }
  return old[this.thread.x];
}`);

export const ZEROS = withConstants(`function() { return 0; }`);
