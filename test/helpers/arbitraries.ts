// fast-check arbitraries shared by the engine's property tests: shapes, broadcast-compatible
// shape pairs, values drawn from safe domains, axis permutations that turn an input into a
// non-contiguous view, and convolution / pooling geometries that always yield a valid output.
//
// Every case is a plain record (shapes, numbers, orders) so that fast-check prints a
// readable counterexample when a property fails.
import fc from 'fast-check';
import { tensor, type Tensor } from '../../src/index.js';

export type Shape = number[];

/**
 * Where an input's values live, chosen so that finite differences are valid:
 * - real: any value in [-2, 2];
 * - positive: [0.2, 3] (log, sqrt, denominators);
 * - nonzero: |v| ≥ 0.05 (relu, abs: away from the kink at 0);
 * - unit: [0.05, 0.95] (probabilities for the cross-entropies, away from the clamp);
 * - prob: [0, 1] (targets);
 * - distinct: pairwise distinct, at least 1/512 apart (max, max-pool: no ties at the argmax);
 * - grid / offgrid: multiples of 1/16, and the same shifted by 1/32 (elementwise maximum:
 *   an input from each never ties).
 */
export type Domain = 'real' | 'positive' | 'nonzero' | 'unit' | 'prob' | 'distinct' | 'grid' | 'offgrid';

const dbl = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

export function valuesArb(n: number, domain: Domain = 'real'): fc.Arbitrary<number[]> {
  const list = (a: fc.Arbitrary<number>) => fc.array(a, { minLength: n, maxLength: n });
  switch (domain) {
    case 'real': return list(dbl(-2, 2));
    case 'positive': return list(dbl(0.2, 3));
    case 'nonzero': return list(dbl(-2, 2).map((v) => (v >= 0 ? v + 0.05 : v - 0.05)));
    case 'unit': return list(dbl(0.05, 0.95));
    case 'prob': return list(dbl(0, 1));
    case 'distinct':
      return fc.uniqueArray(fc.integer({ min: -2048, max: 2048 }), { minLength: n, maxLength: n }).map((a) => a.map((k) => k / 512));
    case 'grid': return list(fc.integer({ min: -32, max: 32 }).map((k) => k / 16));
    case 'offgrid': return list(fc.integer({ min: -32, max: 32 }).map((k) => k / 16 + 1 / 32));
  }
}

/** A shape of rank in [minRank, maxRank] with dimensions in [1, maxDim]. */
export function shapeArb(minRank = 0, maxRank = 4, maxDim = 4): fc.Arbitrary<Shape> {
  return fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

export interface TensorSpec {
  shape: Shape;
  values: number[];
}

export const sizeOfShape = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

/** Values for a given shape. */
export function specArb(shape: Shape, domain: Domain = 'real'): fc.Arbitrary<TensorSpec> {
  return valuesArb(sizeOfShape(shape), domain).map((values) => ({ shape, values }));
}

/** A random shape and values in one go. */
export function tensorSpecArb(minRank = 0, maxRank = 4, maxDim = 4, domain: Domain = 'real'): fc.Arbitrary<TensorSpec> {
  return shapeArb(minRank, maxRank, maxDim).chain((s) => specArb(s, domain));
}

/**
 * Two shapes that broadcast (numpy rules) to a common output: each is a right-aligned
 * suffix of the output shape with some dimensions set to 1, e.g. [3, 1] and [2, 1, 4].
 */
export function broadcastPairArb(maxRank = 4, maxDim = 4): fc.Arbitrary<[Shape, Shape]> {
  return shapeArb(0, maxRank, maxDim).chain((out) => {
    const operand = fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
      .map(([rank, ones]) => out.slice(out.length - rank).map((d, k) => (ones[out.length - rank + k] ? 1 : d)));
    return fc.tuple(operand, operand);
  });
}

/** A permutation of [0, n). */
export function permutationArb(n: number): fc.Arbitrary<number[]> {
  return fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n });
}

/** The base shape that permute(base, order) turns into `shape`. */
export function baseShapeFor(shape: readonly number[], order: readonly number[]): Shape {
  const base = new Array<number>(shape.length);
  order.forEach((src, i) => (base[src] = shape[i]!));
  return base;
}

/** A float64 tensor from a spec (what gradcheck computes in). */
export function t64(spec: TensorSpec, requiresGrad = false): Tensor {
  return tensor(Float64Array.from(spec.values), spec.shape, { dtype: 'float64', requiresGrad });
}

/** A float32 tensor from a spec. */
export function t32(spec: TensorSpec, requiresGrad = false): Tensor {
  return tensor(Float32Array.from(spec.values), spec.shape, { dtype: 'float32', requiresGrad });
}

// ---------------------------------------------------------------------------------------
// Window geometries (conv2d and pooling)

export interface ConvCase {
  N: number; C: number; K: number; H: number; W: number; R: number; S: number;
  stride: [number, number]; padding: [number, number]; dilation: [number, number];
}

/**
 * A convolution whose (dilated) kernel fits the padded input, so the output is at least
 * 1×1: the image size is drawn after the kernel, stride, padding and dilation.
 */
export function convCaseArb(opts: { maxN?: number; maxC?: number; maxK?: number; maxR?: number; maxStride?: number; maxPad?: number; maxDil?: number; maxExtra?: number } = {}): fc.Arbitrary<ConvCase> {
  const { maxN = 2, maxC = 3, maxK = 3, maxR = 3, maxStride = 3, maxPad = 2, maxDil = 2, maxExtra = 4 } = opts;
  const i = (min: number, max: number) => fc.integer({ min, max });
  return fc.record({
    N: i(1, maxN), C: i(1, maxC), K: i(1, maxK), R: i(1, maxR), S: i(1, maxR),
    sH: i(1, maxStride), sW: i(1, maxStride), pH: i(0, maxPad), pW: i(0, maxPad), dH: i(1, maxDil), dW: i(1, maxDil),
    eH: i(0, maxExtra), eW: i(0, maxExtra),
  }).map((r) => ({
    N: r.N, C: r.C, K: r.K, R: r.R, S: r.S,
    H: Math.max(1, r.dH * (r.R - 1) + 1 - 2 * r.pH) + r.eH,
    W: Math.max(1, r.dW * (r.S - 1) + 1 - 2 * r.pW) + r.eW,
    stride: [r.sH, r.sW], padding: [r.pH, r.pW], dilation: [r.dH, r.dW],
  }));
}

export interface PoolCase {
  N: number; C: number; H: number; W: number;
  kernel: [number, number]; stride: [number, number]; padding: [number, number];
}

/** A pooling window (padding at most half the kernel, as PyTorch and our ops require) that fits the padded input. */
export function poolCaseArb(opts: { maxN?: number; maxC?: number; maxR?: number; maxStride?: number; maxExtra?: number } = {}): fc.Arbitrary<PoolCase> {
  const { maxN = 2, maxC = 2, maxR = 3, maxStride = 3, maxExtra = 4 } = opts;
  const i = (min: number, max: number) => fc.integer({ min, max });
  return fc.record({ N: i(1, maxN), C: i(1, maxC), R: i(1, maxR), S: i(1, maxR), sH: i(1, maxStride), sW: i(1, maxStride), eH: i(0, maxExtra), eW: i(0, maxExtra) })
    .chain((r) => fc.record({ pH: i(0, Math.floor(r.R / 2)), pW: i(0, Math.floor(r.S / 2)) }).map((p) => ({
      N: r.N, C: r.C,
      H: Math.max(1, r.R - 2 * p.pH) + r.eH,
      W: Math.max(1, r.S - 2 * p.pW) + r.eW,
      kernel: [r.R, r.S] as [number, number], stride: [r.sH, r.sW] as [number, number], padding: [p.pH, p.pW] as [number, number],
    })));
}

/** Output size of a window op along one axis. */
export function outSize(H: number, R: number, stride: number, pad: number, dil = 1): number {
  return Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1;
}
