// Softmax kernel properties (rows sum to 1, shift invariance, stability, log-softmax =
// log of softmax) and the neon costs: CrossEntropyBinary ≥ 0 and smallest where y = t (for
// hard and soft targets), the safelog clamp at e^-50, CrossEntropyMulti and SumSquared
// against their formulas, with neon's scaling (mean over the batch of per-example sums).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as be from '../../../../src/kernels/cpu/ref/softmax.js';
import { crossEntropyBinary, crossEntropyMulti, sumSquared, tensor } from '../../../../src/index.js';
import { SAFELOG_MIN } from '../../../../src/autograd/ops/loss.js';
import { expectClose } from '../../../helpers/check.js';

const dims = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }));
const rowsArb = (lo = -5, hi = 5) => dims.chain(([rows, cols]) =>
  fc.record({ rows: fc.constant(rows), cols: fc.constant(cols), x: fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols }) }));

const softmaxOf = (x: ArrayLike<number>, rows: number, cols: number, log = false) => {
  const y = new Float64Array(rows * cols);
  be.softmax(Float64Array.from(x), rows, cols, log, y);
  return y;
};

describe('softmax kernel', () => {
  it('each row is a probability distribution summing to 1', () => {
    fc.assert(fc.property(rowsArb(-50, 50), ({ rows, cols, x }) => {
      const y = softmaxOf(x, rows, cols);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < cols; j++) {
          const v = y[r * cols + j]!;
          if (!(v >= 0 && v <= 1)) throw new Error(`softmax row ${r} column ${j} = ${v}, outside [0, 1]`);
          s += v;
        }
        if (Math.abs(s - 1) > 1e-12) throw new Error(`softmax row ${r} of ${JSON.stringify(x.slice(r * cols, (r + 1) * cols))} sums to ${s}`);
      }
    }), { numRuns: 100 });
  });

  it('is invariant to adding a constant to a row, even a huge one (no overflow)', () => {
    fc.assert(fc.property(rowsArb(), fc.double({ min: -1000, max: 1000, noNaN: true }), ({ rows, cols, x }, c) => {
      const shifted = x.map((v) => v + c);
      expectClose(softmaxOf(shifted, rows, cols), softmaxOf(x, rows, cols), `softmax(x + ${c}) vs softmax(x)`, 1e-9, 1e-12);
      expectClose(softmaxOf(shifted, rows, cols, true), softmaxOf(x, rows, cols, true), `logSoftmax(x + ${c}) vs logSoftmax(x)`, 1e-9, 1e-9);
    }), { numRuns: 100 });
  });

  it('log-softmax equals log of softmax, and stays finite where softmax underflows', () => {
    fc.assert(fc.property(rowsArb(), ({ rows, cols, x }) => {
      expectClose(softmaxOf(x, rows, cols, true), Array.from(softmaxOf(x, rows, cols), Math.log), 'logSoftmax vs log(softmax)', 1e-12, 1e-12);
    }), { numRuns: 100 });
    const ls = softmaxOf([0, -2000, 2000], 1, 3, true);
    expect(Array.from(ls)).toEqual([-2000, -4000, 0]);
    expect(Array.from(softmaxOf([1e308, 1e308], 1, 2))).toEqual([0.5, 0.5]);
  });

  it('float32: rows sum to 1 within float32 precision', () => {
    fc.assert(fc.property(rowsArb(-20, 20), ({ rows, cols, x }) => {
      const y = new Float32Array(rows * cols);
      be.softmax(Float32Array.from(x), rows, cols, false, y);
      for (let r = 0; r < rows; r++) expect(Math.abs(y.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6 * cols);
    }), { numRuns: 50 });
  });
});

const bceOf = (y: number[], t: number[], N: number) => crossEntropyBinary(tensor(Float64Array.from(y), [N, y.length / N], { dtype: 'float64' }), tensor(Float64Array.from(t), [N, y.length / N], { dtype: 'float64' })).item();

describe('crossEntropyBinary', () => {
  const caseArb = (hard: boolean) => dims.chain(([N, K]) => fc.record({
    N: fc.constant(N),
    y: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: N * K, maxLength: N * K }),
    t: fc.array(hard ? fc.constantFrom(0, 1) : fc.double({ min: 1e-3, max: 1 - 1e-3, noNaN: true }), { minLength: N * K, maxLength: N * K }),
  }));

  it('hard targets t ∈ {0, 1}: cost ≥ 0, and 0 exactly at y = t', () => {
    fc.assert(fc.property(caseArb(true), ({ N, y, t }) => {
      const c = bceOf(y, t, N);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(bceOf(t, t, N)).toBe(0);
      expect(c).toBeGreaterThanOrEqual(bceOf(t, t, N));
    }), { numRuns: 100 });
  });

  it('soft targets t ∈ (0, 1): cost ≥ its value at y = t (the entropy of t) ≥ 0', () => {
    fc.assert(fc.property(caseArb(false), ({ N, y, t }) => {
      const atT = bceOf(t, t, N);
      const entropy = t.reduce((s, u) => s - u * Math.log(u) - (1 - u) * Math.log(1 - u), 0) / N;
      expect(atT).toBeGreaterThanOrEqual(0);
      expect(Math.abs(atT - entropy)).toBeLessThan(1e-12 * (1 + entropy));
      expect(bceOf(y, t, N)).toBeGreaterThanOrEqual(atT - 1e-12);
    }), { numRuns: 100 });
  });

  it('one coordinate at a time: moving y away from t increases the cost', () => {
    fc.assert(fc.property(caseArb(false), fc.nat(), fc.double({ min: 0.01, max: 0.5, noNaN: true }), ({ N, t }, i0, d) => {
      const i = i0 % t.length;
      const y = t.slice();
      const base = bceOf(y, t, N);
      for (const dir of [-1, 1]) {
        const moved = y.slice();
        moved[i] = Math.min(1, Math.max(0, t[i]! + dir * d));
        if (moved[i] !== t[i]) expect(bceOf(moved, t, N)).toBeGreaterThan(base);
      }
    }), { numRuns: 100 });
  });

  it('is neon\'s: per-example sums over classes, averaged over the batch', () => {
    fc.assert(fc.property(caseArb(false), ({ N, y, t }) => {
      const K = y.length / N;
      const sl = (v: number) => Math.log(Math.max(v, Math.exp(-50)));
      let total = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) { const i = n * K + k; total += -t[i]! * sl(y[i]!) - (1 - t[i]!) * sl(1 - y[i]!); }
      expect(Math.abs(bceOf(y, t, N) - total / N)).toBeLessThan(1e-12 * (1 + total / N));
    }), { numRuns: 100 });
  });

  it('safelog clamps at e^-50: y = 0 with t = 1 (or y = 1 with t = 0) costs exactly 50 per unit, finite gradient', () => {
    expect(SAFELOG_MIN).toBe(Math.exp(-50));
    for (const dtype of ['float32', 'float64'] as const) {
      const y = tensor([0, 1, 0, 1, 0.5, 0.5], [2, 3], { dtype, requiresGrad: true });
      const t = tensor([1, 0, 1, 0, 0.5, 0.5], [2, 3], { dtype });
      const c = crossEntropyBinary(y, t);
      // row 0: y = [0, 1, 0], t = [1, 0, 1] → 50 + 50 + 50;  row 1: y = [1, ½, ½], t = [0, ½, ½] → 50 + 2·ln 2
      expect(c.item()).toBeCloseTo((150 + 50 + 2 * Math.log(2)) / 2, dtype === 'float32' ? 4 : 12);
      c.backward();
      for (const v of y.grad!.data) expect(Number.isFinite(v)).toBe(true);
      // Below the clamp the cost is flat: the gradient of the clamped units is 0.
      expect(Array.from(y.grad!.data.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    }
    expect(bceOf([0, 0, 0], [1, 1, 1], 1)).toBe(150);
    expect(crossEntropyMulti(tensor([0, 1], [1, 2], { dtype: 'float64' }), tensor([1, 0], [1, 2], { dtype: 'float64' })).item()).toBe(50);
  });

  it('gradient is (y − t) / (y(1 − y)) / N, the true derivative of the mean cost (neon\'s y − t is this times y(1 − y)·N)', () => {
    fc.assert(fc.property(dims, fc.nat(), ([N, K], seed) => {
      const y0 = Array.from({ length: N * K }, (_, i) => 0.1 + 0.8 * (((i + 1) * 0.6180339887 + seed * 0.001) % 1));
      const t0 = Array.from({ length: N * K }, (_, i) => ((i * 7 + seed) % 3) / 2);
      const y = tensor(Float64Array.from(y0), [N, K], { dtype: 'float64', requiresGrad: true });
      crossEntropyBinary(y, tensor(Float64Array.from(t0), [N, K], { dtype: 'float64' })).backward();
      expectClose(y.grad!.data, y0.map((v, i) => (v - t0[i]!) / (v * (1 - v)) / N), 'dBCE/dy', 1e-12, 1e-14);
    }), { numRuns: 30 });
  });
});

describe('crossEntropyMulti and sumSquared', () => {
  it('match their formulas, mean over the batch of per-example sums; CE ≥ 0 for y ≤ 1', () => {
    fc.assert(fc.property(dims.chain(([N, K]) => fc.record({
      N: fc.constant(N), K: fc.constant(K),
      y: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: N * K, maxLength: N * K }),
      t: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: N * K, maxLength: N * K }),
    })), ({ N, K, y, t }) => {
      const Y = tensor(Float64Array.from(y), [N, K], { dtype: 'float64' }), T = tensor(Float64Array.from(t), [N, K], { dtype: 'float64' });
      const ce = y.reduce((s, v, i) => s - t[i]! * Math.log(Math.max(v, Math.exp(-50))), 0) / N;
      const ss = y.reduce((s, v, i) => s + 0.5 * (v - t[i]!) ** 2, 0) / N;
      const gotCe = crossEntropyMulti(Y, T).item(), gotSs = sumSquared(Y, T).item();
      expect(Math.abs(gotCe - ce)).toBeLessThanOrEqual(1e-12 * (1 + ce));
      expect(gotCe).toBeGreaterThanOrEqual(0);
      expect(Math.abs(gotSs - ss)).toBeLessThanOrEqual(1e-12 * (1 + ss));
    }), { numRuns: 100 });
  });
});
