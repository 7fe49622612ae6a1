// Gradients of conv2d (with and without bias), maxPool2d and avgPool2d over random
// geometries: odd sizes, batch 1, non-square images and kernels, and every stride /
// padding / dilation combination that yields a valid output, both sampled at random and
// enumerated on a grid; inputs also as permuted (non-contiguous) views.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { avgPool2d, conv2d, Generator, gradcheck, maxPool2d, relu, tensor, type Tensor } from '../../src/index.js';
import { convCaseArb, poolCaseArb, specArb, sizeOfShape, type ConvCase, type PoolCase } from '../helpers/arbitraries.js';
import { checkOp, withViews } from '../helpers/check.js';

const describeConv = (c: ConvCase) =>
  `conv2d x [${c.N}, ${c.C}, ${c.H}, ${c.W}] w [${c.K}, ${c.C}, ${c.R}, ${c.S}] stride ${c.stride} padding ${c.padding} dilation ${c.dilation}`;
const describePool = (op: string, c: PoolCase) =>
  `${op} x [${c.N}, ${c.C}, ${c.H}, ${c.W}] kernel ${c.kernel} stride ${c.stride} padding ${c.padding}`;

function convArb(bias: boolean) {
  return withViews(convCaseArb().chain((g) => {
    const shapes = [[g.N, g.C, g.H, g.W], [g.K, g.C, g.R, g.S], ...(bias ? [[g.K]] : [])];
    return fc.tuple(...shapes.map((s) => specArb(s))).map((inputs) => ({ g, inputs }));
  }));
}

const f64 = (shape: number[], gen: Generator, lo = -1, hi = 1): Tensor =>
  tensor(Float64Array.from({ length: sizeOfShape(shape) }, () => gen.uniform(lo, hi)), shape, { dtype: 'float64' });

describe('conv2d: analytic = numeric gradients', () => {
  it('with bias, random geometry', () => {
    fc.assert(fc.property(convArb(true), (c) => {
      const opts = { stride: c.g.stride, padding: c.g.padding, dilation: c.g.dilation };
      checkOp(describeConv(c.g) + ' + bias', (x, w, b) => conv2d(x, w, b, opts), c);
    }), { numRuns: 40 });
  });

  it('without bias, random geometry', () => {
    fc.assert(fc.property(convArb(false), (c) => {
      const opts = { stride: c.g.stride, padding: c.g.padding, dilation: c.g.dilation };
      checkOp(describeConv(c.g), (x, w) => conv2d(x, w, null, opts), c);
    }), { numRuns: 40 });
  });

  it('every stride (1..3) × padding (0..2) × dilation (1..2) on each axis that yields an output', () => {
    const gen = new Generator(2024);
    let checked = 0;
    for (const [R, S] of [[3, 2], [1, 3]] as const) {
      for (const sH of [1, 2, 3]) for (const sW of [1, 2, 3]) for (const pH of [0, 1, 2]) for (const pW of [0, 1, 2]) for (const dH of [1, 2]) for (const dW of [1, 2]) {
        // The smallest image that fits, plus one so that stride matters.
        const H = Math.max(1, dH * (R - 1) + 1 - 2 * pH) + 1, W = Math.max(1, dW * (S - 1) + 1 - 2 * pW) + 2;
        const opts = { stride: [sH, sW] as const, padding: [pH, pW] as const, dilation: [dH, dW] as const };
        const x = f64([1, 2, H, W], gen), w = f64([2, 2, R, S], gen), b = f64([2], gen);
        gradcheck((x, w, b) => conv2d(x!, w!, b!, opts), [x, w, b], { name: `conv2d ${R}×${S} on ${H}×${W} stride ${sH},${sW} padding ${pH},${pW} dilation ${dH},${dW}` });
        checked++;
      }
    }
    if (checked !== 2 * 3 ** 4 * 4) throw new Error(`checked ${checked} geometries`);
  });

  it('inside a small net: relu(conv2d) → conv2d with stride 2 → maxPool', () => {
    const gen = new Generator(5);
    const x = f64([1, 2, 7, 6], gen), w1 = f64([3, 2, 3, 3], gen), b1 = f64([3], gen), w2 = f64([2, 3, 2, 2], gen);
    gradcheck((x, w1, b1, w2) => maxPool2d(conv2d(relu(conv2d(x!, w1!, b1!, { padding: 1 })), w2!, null, { stride: 2 }), { kernel: 2, stride: 1 }), [x, w1, b1, w2], { name: 'net' });
  });
});

describe('pooling: analytic = numeric gradients', () => {
  function poolArb() {
    // Distinct values: no ties at a window's maximum.
    return withViews(poolCaseArb().chain((g) => fc.tuple(specArb([g.N, g.C, g.H, g.W], 'distinct')).map((inputs) => ({ g, inputs }))));
  }

  it('maxPool2d, random geometry', () => {
    fc.assert(fc.property(poolArb(), (c) => {
      checkOp(describePool('maxPool2d', c.g), (x) => maxPool2d(x, { kernel: c.g.kernel, stride: c.g.stride, padding: c.g.padding }), c);
    }), { numRuns: 40 });
  });

  it('avgPool2d, random geometry, padding counted and not counted', () => {
    fc.assert(fc.property(poolArb(), fc.boolean(), (c, countIncludePad) => {
      checkOp(describePool('avgPool2d', c.g) + ` countIncludePad ${countIncludePad}`, (x) => avgPool2d(x, { kernel: c.g.kernel, stride: c.g.stride, padding: c.g.padding, countIncludePad }), c);
    }), { numRuns: 40 });
  });

  it('every kernel (1..3)², stride (1..3)² and padding (0..⌊k/2⌋)² that yields an output', () => {
    let checked = 0;
    for (let R = 1; R <= 3; R++) for (let S = 1; S <= 3; S++) for (const sH of [1, 2, 3]) for (const sW of [1, 2, 3]) {
      for (let pH = 0; pH <= R >> 1; pH++) for (let pW = 0; pW <= S >> 1; pW++) {
        const H = Math.max(1, R - 2 * pH) + 2, W = Math.max(1, S - 2 * pW) + 1;
        const n = 2 * H * W;
        // A permutation of 0..n-1, scaled: distinct values, deterministic.
        const gen = new Generator(R * 1000 + S * 100 + sH * 10 + sW + pH * 7 + pW * 3);
        const perm = gen.permutation(n);
        const x = tensor(Float64Array.from(perm, (v) => v / n - 0.5), [1, 2, H, W], { dtype: 'float64' });
        const opts = { kernel: [R, S] as const, stride: [sH, sW] as const, padding: [pH, pW] as const };
        const where = `kernel ${R}×${S} on ${H}×${W} stride ${sH},${sW} padding ${pH},${pW}`;
        gradcheck((x) => maxPool2d(x!, opts), [x], { name: `maxPool2d ${where}` });
        gradcheck((x) => avgPool2d(x!, opts), [x], { name: `avgPool2d ${where}` });
        gradcheck((x) => avgPool2d(x!, { ...opts, countIncludePad: false }), [x], { name: `avgPool2d (padding not counted) ${where}` });
        checked++;
      }
    }
    if (checked < 100) throw new Error(`only ${checked} pooling geometries checked`);
  });
});
