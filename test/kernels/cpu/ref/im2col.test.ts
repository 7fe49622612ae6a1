// im2col / col2im, the reference's (textbook loops) and the fast backend's (range loops,
// a gather for small outputs, whole-row copies for stride 1 and "same" width): each equals
// its definition on random geometries, written into a block of a wider matrix; col2im is
// the adjoint of im2col, ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ in float64; blocks (colsOffset,
// ldCols) equal the plain calls and touch nothing outside; misfit blocks are errors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as refIm2col from '../../../../src/kernels/cpu/ref/im2col.js';
import * as simdIm2col from '../../../../src/kernels/cpu/simd/im2col.js';
import { windowGeometry } from '../../../../src/kernels/geometry.js';
import { Generator } from '../../../../src/index.js';
import { convCaseArb } from '../../../helpers/arbitraries.js';
import { geometryOf, naiveIm2col, rand } from '../../../helpers/naive.js';

for (const [name, be] of [['ref', refIm2col], ['simd', simdIm2col]] as const) {
  describe(`${name}: im2col equals its definition on each of its paths`, () => {
    // im2col copies whole shifted planes for stride 1 and Q = W when P·Q ≥ 64, gathers
    // through an index table when P·Q ≤ 64, and loops over output rows otherwise.
    const i = (min: number, max: number) => fc.integer({ min, max });
    const anyGeometry = fc.record({ C: i(1, 3), H: i(1, 24), W: i(1, 24), R: i(1, 5), S: i(1, 5), sH: i(1, 3), sW: i(1, 3), pH: i(0, 2), pW: i(0, 2), dH: i(1, 2), dW: i(1, 2) })
      .filter((r) => r.H + 2 * r.pH >= r.dH * (r.R - 1) + 1 && r.W + 2 * r.pW >= r.dW * (r.S - 1) + 1);
    // stride 1 with "same" width: S odd, padW = dilW·(S − 1)/2, images of 8 to 24 pixels
    const sameWidth = fc.record({ C: i(1, 3), H: i(1, 24), W: i(8, 24), R: i(1, 5), s: i(0, 2), pH: i(0, 3), dH: i(1, 2), dW: i(1, 2) })
      .map((r) => ({ C: r.C, H: r.H + r.dH * (r.R - 1), W: r.W, R: r.R, S: 2 * r.s + 1, sH: 1, sW: 1, pH: r.pH, pW: r.dW * r.s, dH: r.dH, dW: r.dW }));
    it('random geometries (float32 and float64), written into a block of a wider matrix', () => {
      fc.assert(fc.property(fc.oneof(anyGeometry, sameWidth), fc.nat(), fc.nat(5), (r, seed, extra) => {
        const g = windowGeometry('test', r.C, r.H, r.W, r.R, r.S, { stride: [r.sH, r.sW], padding: [r.pH, r.pW], dilation: [r.dH, r.dW] });
        const PQ = g.P * g.Q, rows = r.C * r.R * r.S, ld = PQ + extra, off = 3;
        for (const Arr of [Float64Array, Float32Array]) {
          const x = rand(r.C * r.H * r.W, new Generator(seed), Arr);
          const ref = naiveIm2col(x, g);
          const cols = new Arr(off + rows * ld).fill(NaN);
          be.im2col(x, 0, g, cols, off, ld);
          for (let k = 0; k < rows; k++) for (let j = 0; j < PQ; j++) {
            const got = cols[off + k * ld + j]!, want = ref[k * PQ + j]!;
            if (got !== want) throw new Error(`im2col ${Arr.name} C ${r.C} ${r.H}×${r.W}, ${r.R}×${r.S}, stride ${r.sH},${r.sW}, padding ${r.pH},${r.pW}, dilation ${r.dH},${r.dW} → ${g.P}×${g.Q}: row ${k} column ${j} is ${got}, expected ${want}`);
          }
        }
      }), { numRuns: 300 });
    });
  });

  describe(`${name}: col2im is the adjoint of im2col`, () => {
    it('⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ in float64, with offsets into larger buffers', () => {
      fc.assert(fc.property(convCaseArb({ maxC: 3, maxR: 4, maxDil: 3, maxExtra: 6 }), fc.nat(), fc.nat(5), (c, seed, off) => {
        const g = geometryOf(c);
        const gen = new Generator(seed);
        const CHW = c.C * c.H * c.W, rows = c.C * c.R * c.S, PQ = g.P * g.Q;
        const x = rand(off + CHW, gen) as Float64Array;
        const y = rand(rows * PQ, gen) as Float64Array;
        const cols = new Float64Array(rows * PQ).fill(NaN);
        be.im2col(x, off, g, cols);
        const dx = new Float64Array(off + CHW);
        const before = rand(off, gen);
        dx.set(before); // col2im must only touch [off, off + CHW)
        const pre = Float64Array.from(dx);
        be.col2im(y, g, dx, off);
        let lhs = 0, rhs = 0;
        for (let i = 0; i < cols.length; i++) lhs += cols[i]! * y[i]!;
        for (let i = 0; i < CHW; i++) rhs += x[off + i]! * (dx[off + i]! - pre[off + i]!);
        const scale = Math.max(1, Math.abs(lhs));
        if (Math.abs(lhs - rhs) > 1e-12 * scale * rows) throw new Error(`⟨im2col(x), y⟩ = ${lhs} but ⟨x, col2im(y)⟩ = ${rhs} (C ${c.C} ${c.H}×${c.W}, ${c.R}×${c.S}, stride ${c.stride}, padding ${c.padding}, dilation ${c.dilation})`);
        expect(Array.from(dx.subarray(0, off))).toEqual(Array.from(before));
      }), { numRuns: 100 });
    });

    it('im2col / col2im on a block of a wider matrix (colsOffset, ldCols) equal the plain ones, touching nothing else', () => {
      fc.assert(fc.property(convCaseArb({ maxC: 3, maxR: 3, maxDil: 2, maxExtra: 5 }), fc.nat(), fc.nat(7), fc.nat(9), (c, seed, colOff, extra) => {
        const g = geometryOf(c);
        const gen = new Generator(seed);
        const CHW = c.C * c.H * c.W, rows = c.C * c.R * c.S, PQ = g.P * g.Q;
        const ld = PQ + extra;
        const x = rand(CHW, gen) as Float64Array;
        const plain = new Float64Array(rows * PQ).fill(NaN);
        be.im2col(x, 0, g, plain);
        const wide = new Float64Array(colOff + rows * ld + 2).fill(-7);
        be.im2col(x, 0, g, wide, colOff, ld);
        for (let i = 0; i < wide.length; i++) {
          const k = i - colOff, r = Math.floor(k / ld), j = k - r * ld;
          const expected = k >= 0 && r < rows && j < PQ ? plain[r * PQ + j]! : -7;
          if (wide[i] !== expected) throw new Error(`im2col at offset ${colOff}, ld ${ld}: element ${i} is ${wide[i]}, expected ${expected}`);
        }
        // col2im reads the block only: garbage around it must not reach dx
        const y = rand(rows * PQ, gen) as Float64Array;
        const yWide = new Float64Array(wide.length).fill(1e9);
        for (let r = 0; r < rows; r++) yWide.set(y.subarray(r * PQ, (r + 1) * PQ), colOff + r * ld);
        const dx1 = rand(CHW, gen) as Float64Array, dx2 = Float64Array.from(dx1);
        be.col2im(y, g, dx1, 0);
        be.col2im(yWide, g, dx2, 0, colOff, ld);
        expect(Array.from(dx2)).toEqual(Array.from(dx1));
      }), { numRuns: 100 });
    });

    it('a block that does not fit the cols array is an error naming the sizes', () => {
      const g = windowGeometry('test', 1, 3, 3, 2, 2, {});
      expect(() => be.im2col(new Float64Array(9), 0, g, new Float64Array(4 * 4), 1, 4)).toThrow(/cols \[4, 4\] with ldCols 4 at offset 1 needs 17 elements, array has 16/);
      expect(() => be.col2im(new Float64Array(16), g, new Float64Array(9), 0, 0, 3)).toThrow(/ldCols 3 .* ≥ P·Q = 4/);
    });

    it('col2im accumulates (+=) into dx', () => {
      const g = windowGeometry('test', 1, 3, 3, 2, 2, {});
      const cols = new Float64Array(4 * g.P * g.Q).fill(1);
      const dx = new Float64Array(9).fill(10);
      be.col2im(cols, g, dx, 0);
      // Each pixel gets one per window covering it: corners 1, edges 2, centre 4.
      expect(Array.from(dx)).toEqual([11, 12, 11, 12, 14, 12, 11, 12, 11]);
    });
  });
}
