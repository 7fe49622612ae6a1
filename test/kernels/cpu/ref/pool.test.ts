// Pooling kernels: max-pool forward equals the naive window maximum and its backward sends
// each gradient to that window's argmax (and only there); average pooling equals the naive
// window mean (padding counted or not) and its backward is the adjoint of its forward.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as be from '../../../../src/kernels/cpu/ref/pool.js';
import { poolGeometry } from '../../../../src/autograd/ops/pool.js';
import type { WindowGeometry } from '../../../../src/kernels/backend.js';
import { Generator, maxPool2d, tensor } from '../../../../src/index.js';
import { poolCaseArb, type PoolCase } from '../../../helpers/arbitraries.js';
import { expectClose } from '../../../helpers/check.js';

const geometryOf = (c: PoolCase): WindowGeometry => poolGeometry('test', [c.N, c.C, c.H, c.W], { kernel: c.kernel, stride: c.stride, padding: c.padding });
const where = (c: PoolCase) => `x [${c.N}, ${c.C}, ${c.H}, ${c.W}] kernel ${c.kernel} stride ${c.stride} padding ${c.padding}`;

/** The in-image pixels (flat h·W + w) of window (p, q). */
function windowPixels(g: WindowGeometry, p: number, q: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < g.R; r++) for (let s = 0; s < g.S; s++) {
    const h = p * g.strideH - g.padH + r, w = q * g.strideW - g.padW + s;
    if (h >= 0 && h < g.H && w >= 0 && w < g.W) out.push(h * g.W + w);
  }
  return out;
}

/** Distinct values: a shuffled ramp (so every window has a unique maximum). */
function distinct(n: number, gen: Generator): Float64Array {
  const perm = gen.permutation(n);
  return Float64Array.from(perm, (v) => (v - n / 2) / 8);
}

describe('max pooling', () => {
  it('forward is the window maximum; backward sends each gradient to the argmax', () => {
    fc.assert(fc.property(poolCaseArb({ maxN: 2, maxC: 3, maxR: 4, maxExtra: 6 }), fc.nat(), (c, seed) => {
      const g = geometryOf(c);
      const gen = new Generator(seed);
      const planes = c.N * c.C, HW = c.H * c.W, PQ = g.P * g.Q;
      const x = distinct(planes * HW, gen);
      const y = new Float64Array(planes * PQ).fill(NaN);
      const argmax = new Int32Array(y.length);
      be.maxPoolForward(x, c.N, g, y, argmax);

      const dy = Float64Array.from({ length: y.length }, () => gen.uniform(-1, 1));
      const dx = new Float64Array(x.length);
      be.maxPoolBackward(dy, argmax, c.N, g, dx);

      const expectedDx = new Float64Array(x.length);
      for (let pl = 0; pl < planes; pl++) for (let p = 0; p < g.P; p++) for (let q = 0; q < g.Q; q++) {
        const px = windowPixels(g, p, q);
        const best = px.reduce((b, i) => (x[pl * HW + i]! > x[pl * HW + b]! ? i : b), px[0]!);
        const o = pl * PQ + p * g.Q + q;
        if (y[o] !== x[pl * HW + best] || argmax[o] !== best) {
          throw new Error(`maxPool ${where(c)}: window (${pl}, ${p}, ${q}) max ${y[o]} at ${argmax[o]}, expected ${x[pl * HW + best]} at ${best}`);
        }
        expectedDx[pl * HW + best]! += dy[o]!;
      }
      expectClose(dx, expectedDx, `maxPool backward ${where(c)}`, 1e-14, 0);
    }), { numRuns: 80 });
  });

  it('one-hot upstream gradient: exactly one input gets it, the window winner', () => {
    // 4×4 image, 2×2 windows stride 2: each window has one winner.
    const x = tensor([
      1, 5, 2, 0,
      3, 4, 9, 8,
      7, 6, 0, 1,
      2, 3, 4, 5,
    ], [1, 1, 4, 4], { requiresGrad: true });
    const y = maxPool2d(x, { kernel: 2 });
    expect(Array.from(y.data)).toEqual([5, 9, 7, 5]);
    y.backward([0, 0, 1, 0]);
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('overlapping windows (stride < kernel) add up at a shared argmax; ties go to the first element', () => {
    const x = tensor([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 1, 3, 3], { requiresGrad: true });
    const y = maxPool2d(x, { kernel: 2, stride: 1 });
    y.backward([1, 2, 3, 4]);
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0, 10, 0, 0, 0, 0]);
    const t = tensor([1, 1, 1, 1], [1, 1, 2, 2], { requiresGrad: true });
    maxPool2d(t, { kernel: 2 }).backward([1]);
    expect(Array.from(t.grad!.data)).toEqual([1, 0, 0, 0]);
  });

  it('padding never wins: an all-negative image pools to its own values, not 0', () => {
    const x = tensor([-5, -4, -3, -2], [1, 1, 2, 2]);
    expect(Array.from(maxPool2d(x, { kernel: 3, stride: 1, padding: 1 }).data)).toEqual([-2, -2, -2, -2]);
  });
});

describe('average pooling', () => {
  it('forward is the window mean (padding counted or not); backward is the adjoint of forward', () => {
    fc.assert(fc.property(poolCaseArb({ maxN: 2, maxC: 3, maxR: 4, maxExtra: 6 }), fc.boolean(), fc.nat(), (c, countPad, seed) => {
      const g = geometryOf(c);
      const gen = new Generator(seed);
      const planes = c.N * c.C, HW = c.H * c.W, PQ = g.P * g.Q;
      const x = Float64Array.from({ length: planes * HW }, () => gen.uniform(-1, 1));
      const y = new Float64Array(planes * PQ).fill(NaN);
      be.avgPoolForward(x, c.N, g, countPad, y);
      const expected = new Float64Array(y.length);
      for (let pl = 0; pl < planes; pl++) for (let p = 0; p < g.P; p++) for (let q = 0; q < g.Q; q++) {
        const px = windowPixels(g, p, q);
        // PyTorch's divisor with padding counted: the window clipped to the padded image.
        const h0 = p * g.strideH - g.padH, w0 = q * g.strideW - g.padW;
        const padded = (Math.min(h0 + g.R, g.H + g.padH) - h0) * (Math.min(w0 + g.S, g.W + g.padW) - w0);
        expected[pl * PQ + p * g.Q + q] = px.reduce((s, i) => s + x[pl * HW + i]!, 0) / (countPad ? padded : px.length);
      }
      expectClose(y, expected, `avgPool forward ${where(c)} countPad ${countPad}`, 1e-12, 1e-14);

      const dy = Float64Array.from({ length: y.length }, () => gen.uniform(-1, 1));
      const dx = new Float64Array(x.length);
      be.avgPoolBackward(dy, c.N, g, countPad, dx);
      let lhs = 0, rhs = 0;
      for (let i = 0; i < y.length; i++) lhs += y[i]! * dy[i]!;
      for (let i = 0; i < x.length; i++) rhs += x[i]! * dx[i]!;
      if (Math.abs(lhs - rhs) > 1e-12 * (1 + Math.abs(lhs))) throw new Error(`avgPool ${where(c)}: ⟨avg(x), dy⟩ = ${lhs} but ⟨x, avgBack(dy)⟩ = ${rhs}`);
    }), { numRuns: 80 });
  });
});
