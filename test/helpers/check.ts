// Assertions with readable failures, and the generic gradient check every op test uses:
// gradcheck (float64 central differences) on contiguous inputs or through a permute inside
// the checked function, plus a direct comparison of the op on permuted (non-contiguous)
// views against the same op on contiguous copies, forward and backward.
import fc from 'fast-check';
import { Generator, gradcheck, manualSeed, permute, tensor, type GradcheckOptions, type Tensor } from '../../src/index.js';
import { baseShapeFor, permutationArb, t64, type TensorSpec } from './arbitraries.js';

/** Norm-wise relative error ‖a − b‖₂ / ‖b‖₂ (‖a‖₂ when b is all zeros). */
export function relNormError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0, an = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
    an += a[i]! ** 2;
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(an);
}

/**
 * Elementwise |a − b| ≤ atol + rtol·|b|. On failure, throws naming `what`, the first
 * offending flat index and both values, and the count of mismatches.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-10, atol = 1e-12): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  let bad = 0, first = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e)) || a === e;
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0) {
    throw new Error(`${what}: ${bad} of ${actual.length} values differ; first at flat index ${first}: got ${actual[first]}, expected ${expected[first]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** ‖a − b‖/‖b‖ ≤ tol, with a message naming `what` and the worst element. */
export function expectRelNorm(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol: number): void {
  const err = relNormError(actual, expected);
  if (!(err <= tol)) {
    let worst = 0;
    for (let i = 0; i < actual.length; i++) if (Math.abs(actual[i]! - expected[i]!) > Math.abs(actual[worst]! - expected[worst]!)) worst = i;
    throw new Error(`${what}: relative error ‖a−b‖/‖b‖ = ${err.toExponential(3)} > ${tol}; worst at flat index ${worst}: got ${actual[worst]}, expected ${expected[worst]}`);
  }
}

/** A property case with inputs and, for each, an axis order used to make it a permuted view. */
export interface ViewCase {
  inputs: TensorSpec[];
  /** true: gradcheck through permute inside the checked function. */
  permuted: boolean;
  orders: number[][];
}

/** Adds random axis orders for every input and a coin for whether gradcheck goes through them. */
export function withViews<T extends { inputs: TensorSpec[] }>(arb: fc.Arbitrary<T>): fc.Arbitrary<T & { permuted: boolean; orders: number[][] }> {
  return arb.chain((c) =>
    fc.record({ permuted: fc.boolean(), orders: fc.tuple(...c.inputs.map((s) => permutationArb(s.shape.length))) })
      .map(({ permuted, orders }) => ({ ...c, permuted, orders: orders as number[][] })),
  );
}

/** The contiguous tensor that permute(·, order) turns into a tensor with `spec`'s shape and values. */
export function basePermuted(spec: TensorSpec, order: readonly number[], requiresGrad = false): Tensor {
  // Build the logical tensor, then store it in the base layout: base[idx∘order⁻¹] = logical[idx].
  const logical = t64(spec);
  const inverse = new Array<number>(order.length);
  order.forEach((src, i) => (inverse[src] = i));
  const base = permute(logical, inverse);
  return tensor(Float64Array.from(base.data), baseShapeFor(spec.shape, order), { dtype: 'float64', requiresGrad });
}

export interface OpCheckOptions extends GradcheckOptions {
  /** Skip the direct permuted-view comparison (ops that require contiguous input, like view). */
  skipViews?: boolean;
}

/**
 * The core property of every differentiable op:
 * 1. gradcheck (analytic gradient = float64 central differences) on the inputs, either as
 *    given or (c.permuted) stored in a permuted layout and permuted back inside the checked
 *    function, so the op sees non-contiguous views;
 * 2. the op applied directly to permuted views equals the op applied to contiguous copies
 *    of the same values, in its output and in every input gradient.
 */
export function checkOp(name: string, fn: (...xs: Tensor[]) => Tensor, c: ViewCase, opts: OpCheckOptions = {}): void {
  const { skipViews, ...gopts } = opts;
  const wrt = gopts.wrt ?? c.inputs.map((_, i) => i);
  if (c.permuted) {
    const bases = c.inputs.map((s, i) => basePermuted(s, c.orders[i]!));
    gradcheck((...bs: Tensor[]) => fn(...bs.map((b, i) => permute(b, c.orders[i]!))), bases, { ...gopts, name: `${name} (inputs through permute)` });
  } else {
    gradcheck(fn, c.inputs.map((s) => t64(s)), { ...gopts, name });
  }
  if (skipViews) return;

  // Direct views: leaves stored permuted, the op gets non-contiguous views of them.
  const bases = c.inputs.map((s, i) => basePermuted(s, c.orders[i]!, wrt.includes(i)));
  const views = bases.map((b, i) => permute(b, c.orders[i]!));
  const copies = c.inputs.map((s, i) => t64(s, wrt.includes(i)));
  manualSeed(7);
  const y1 = fn(...views);
  manualSeed(7);
  const y2 = fn(...copies);
  expectClose(y1.data, y2.data, `${name} on permuted views vs contiguous copies: output`);
  const gen = new Generator(99);
  const g = Float64Array.from({ length: y1.size }, () => gen.uniform(-1, 1));
  y1.backward(tensor(g, y1.shape, { dtype: 'float64' }));
  y2.backward(tensor(Float64Array.from(g), y2.shape, { dtype: 'float64' }));
  for (const i of wrt) {
    const viaView = bases[i]!.grad ? permute(bases[i]!.grad!, c.orders[i]!).data : new Float64Array(views[i]!.size);
    const direct = copies[i]!.grad ? copies[i]!.grad!.data : new Float64Array(copies[i]!.size);
    expectClose(viaView, direct, `${name} on permuted views vs contiguous copies: gradient of input ${i}`);
  }
}
