// The piece planners of the webgpu backend's split kernels (src/kernels/gpu/webgpu/split-kernels.ts,
// windows.ts, long-rows.ts), on the host, over random shapes: the pieces cover every element once, in order;
// each piece's windows fit the binding with room for the 256-byte alignment; a reduce summed
// piece by piece (accumulating where a piece says so) equals the whole sum, and no invocation
// sums more than LOOP_STEPS values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { reducePieces, stridedPieces } from '../../../src/kernels/gpu/webgpu/split-kernels.js';
import { imageRowPieces, LOOP_STEPS } from '../../../src/kernels/gpu/webgpu/windows.js';
import { WINDOW_ALIGN } from '../../../src/kernels/gpu/webgpu/device.js';
import { rowChunks } from '../../../src/kernels/gpu/webgpu/long-rows.js';

const count = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
const contiguous = (s: readonly number[]): number[] => s.map((_, k) => count(s.slice(k + 1)));
/** The index of element e (row-major over shape) in a view. */
const at = (e: number, shape: readonly number[], offset: number, strides: readonly number[]): number => {
  let o = offset;
  for (let k = shape.length - 1; k >= 0; k--) {
    o += (e % shape[k]!) * strides[k]!;
    e = Math.floor(e / shape[k]!);
  }
  return o;
};
const spanOf = (shape: readonly number[], offset: number, strides: readonly number[]): number => {
  let lo = offset, hi = offset;
  shape.forEach((d, k) => { const e = (d - 1) * strides[k]!; if (e < 0) lo += e; else hi += e; });
  return hi + 1 - lo;
};

describe('webgpu split planners', () => {
  it('strided pieces cover the index space once, in order, each view\'s window within the binding, elements at the same places', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 65, max: 400 }), fc.nat(100), fc.boolean(),
      (shape, limit, seed, flip) => {
        // a: contiguous; b: the axes' strides permuted, one axis broadcast or reversed
        const a = { offset: 3, strides: contiguous(shape) };
        const perm = contiguous(shape).map((_, k, s) => s[(k + seed) % s.length]!);
        const k0 = seed % shape.length;
        const bStrides = perm.map((s, k) => (k === k0 ? (flip ? -s : 0) : s));
        const b = { offset: flip ? 500 : 0, strides: bStrides };
        const pieces = stridedPieces(shape, [a.offset, b.offset], [a.strides, b.strides], limit);
        let next = 0;
        for (const p of pieces) {
          expect(p.start).toBe(next);
          const n = count(p.shape);
          expect(n).toBeLessThanOrEqual(limit);
          for (let v = 0; v < 2; v++) expect(spanOf(p.shape, p.offsets[v]!, p.strides[v]!)).toBeLessThanOrEqual(pieces.length > 1 ? limit - WINDOW_ALIGN : limit);
          for (let e = 0; e < n; e++) {
            expect(at(e, p.shape, p.offsets[0]!, p.strides[0]!)).toBe(at(p.start + e, shape, a.offset, a.strides));
            expect(at(e, p.shape, p.offsets[1]!, p.strides[1]!)).toBe(at(p.start + e, shape, b.offset, b.strides));
          }
          next += n;
        }
        expect(next).toBe(count(shape));
      }), { numRuns: 200 });
  });

  it('long-row chunks cover every row once and each row\'s columns once, in order; each chunk loops at most LOOP_STEPS and its window fits the binding', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 4096, max: 1 << 20 }),
      (rows, cols, limit) => {
        let nextRow = 0;
        for (const p of rowChunks(rows, cols, limit)) {
          expect(p.r0).toBe(nextRow);
          expect(p.m).toBeGreaterThanOrEqual(1);
          let nextCol = 0;
          for (const [lo, len] of p.chunks) {
            expect(lo).toBe(p.r0 * cols + nextCol);
            expect(len).toBeGreaterThanOrEqual(1);
            expect(len).toBeLessThanOrEqual(LOOP_STEPS);
            // the chunk's window: m rows apart by cols, len values each
            expect((p.m - 1) * cols + len).toBeLessThanOrEqual(limit - WINDOW_ALIGN);
            nextCol += len;
          }
          expect(nextCol).toBe(cols);
          nextRow += p.m;
        }
        expect(nextRow).toBe(rows);
      }), { numRuns: 300 });
  });

  it('reduce pieces summed in order (accumulating where they say) give the whole reduction; each fits the binding and LOOP_STEPS', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 1, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.integer({ min: 65, max: 5000 }),
      (shape, flags, limit) => {
        const red = shape.map((_, k) => flags[k]!);
        const x = Float64Array.from({ length: count(shape) }, (_, i) => ((i * 7919) % 1000) / 7);
        const nOut = count(shape.map((d, k) => (red[k] ? 1 : d)));
        // the whole reduction, directly
        const want = new Float64Array(nOut);
        const outShape = shape.map((d, k) => (red[k] ? 1 : d));
        for (let i = 0; i < x.length; i++) {
          let o = 0, rest = i;
          const idx = shape.map(() => 0);
          for (let k = shape.length - 1; k >= 0; k--) { idx[k] = rest % shape[k]!; rest = Math.floor(rest / shape[k]!); }
          idx.forEach((v, k) => { o = o * outShape[k]! + (red[k] ? 0 : v); });
          want[o]! += x[i]!;
        }
        const got = new Float64Array(nOut).fill(NaN);
        for (const p of reducePieces(shape, red, limit)) {
          const pn = count(p.shape), pOut = p.shape.map((d, k) => (p.red[k] ? 1 : d)), R = count(p.shape.map((d, k) => (p.red[k] ? d : 1)));
          if (reducePieces(shape, red, limit).length > 1) expect(pn).toBeLessThanOrEqual(limit - WINDOW_ALIGN);
          expect(R * (p.shape.length + 2)).toBeLessThanOrEqual(LOOP_STEPS);
          const part = new Float64Array(count(pOut));
          for (let e = 0; e < pn; e++) {
            let o = 0, rest = e;
            const idx = p.shape.map(() => 0);
            for (let k = p.shape.length - 1; k >= 0; k--) { idx[k] = rest % p.shape[k]!; rest = Math.floor(rest / p.shape[k]!); }
            idx.forEach((v, k) => { o = o * pOut[k]! + (p.red[k] ? 0 : v); });
            part[o]! += x[p.x0 + e]!;
          }
          part.forEach((v, o) => { got[p.out0 + o] = p.accum ? got[p.out0 + o]! + v : v; });
        }
        got.forEach((v, o) => expect(Math.abs(v - want[o]!)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want[o]!))));
      }), { numRuns: 200 });
  });

  it('im2col pieces keep the image and column windows within the binding, and cover every image and row', () => {
    fc.assert(fc.property(
      fc.record({ nb: fc.integer({ min: 1, max: 6 }), C: fc.integer({ min: 1, max: 9 }), HW: fc.integer({ min: 1, max: 300 }), RS: fc.constantFrom(1, 4, 9), PQ: fc.integer({ min: 1, max: 300 }), pad: fc.nat(50), limit: fc.integer({ min: 400, max: 20_000 }) }),
      ({ nb, C, HW, RS, PQ, pad, limit }) => {
        const ld = nb * PQ + pad;
        let plan: { ic: number; rows: number };
        try {
          plan = imageRowPieces(nb, C, HW, RS, PQ, ld, limit);
        } catch (e) {
          // only when one row of the columns, or one image's planes of one row, cannot fit
          expect((e as Error).message).toMatch(/even when the call is split/);
          expect(Math.max(PQ, Math.min(C, 2) * HW)).toBeGreaterThan(limit - WINDOW_ALIGN);
          return;
        }
        const { ic, rows } = plan;
        expect(ic).toBeGreaterThanOrEqual(1);
        expect(rows).toBeGreaterThanOrEqual(1);
        const whole = ic === nb && rows === C * RS;
        for (let g0 = 0; g0 < C * RS; g0 += rows) {
          const mr = Math.min(rows, C * RS - g0), c0 = Math.floor(g0 / RS), c1 = Math.floor((g0 + mr - 1) / RS) + 1;
          const xSize = (ic - 1) * C * HW + (c1 - c0) * HW, colsSize = (mr - 1) * ld + ic * PQ;
          expect(xSize).toBeLessThanOrEqual(whole ? limit : limit - WINDOW_ALIGN);
          expect(colsSize).toBeLessThanOrEqual(whole ? limit : limit - WINDOW_ALIGN);
        }
      }), { numRuns: 300 });
  });
});
