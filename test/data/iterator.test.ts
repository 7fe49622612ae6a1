import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayIterator, EpochPlanner, permutation, seededRng } from '../../src/data/iterator.js';
import { tlError } from './helpers.js';

const params = fc
  .record({ ndata: fc.integer({ min: 1, max: 60 }), epochs: fc.integer({ min: 1, max: 8 }), b: fc.integer({ min: 1, max: 60 }) })
  .map(({ ndata, epochs, b }) => ({ ndata, epochs, bsz: 1 + ((b - 1) % ndata) }));

describe('EpochPlanner follows neon (hdf5iterator.py __iter__)', () => {
  it('without reset, the rows of all batches of all epochs are the cycle 0, 1, ..., ndata-1, 0, 1, ...', () => {
    fc.assert(
      fc.property(params, ({ ndata, bsz, epochs }) => {
        const p = new EpochPlanner(ndata, bsz);
        let k = 0;
        for (let e = 0; e < epochs; e++) {
          const start = p.start;
          const expectedBatches = Math.ceil((ndata - start) / bsz);
          expect(p.nbatches).toBe(expectedBatches);
          const batches = [...p.epoch()];
          expect(batches.length).toBe(expectedBatches);
          let valid = 0;
          batches.forEach((b, i) => {
            expect(b.rows.length).toBe(bsz);
            for (const r of b.rows) expect(r).toBe(k++ % ndata);
            expect(b.valid).toBe(i < batches.length - 1 ? bsz : ndata - start - (batches.length - 1) * bsz);
            valid += b.valid;
          });
          // this epoch's real examples are start..ndata-1; the next starts after the wrapped ones
          expect(valid).toBe(ndata - start);
          const last = batches[batches.length - 1]!;
          expect(p.start).toBe(bsz - last.valid);
        }
      }),
    );
  });

  it('after reset (eval order) every example appears once among the valid rows, in file order', () => {
    fc.assert(
      fc.property(params, fc.integer({ min: 0, max: 5 }), ({ ndata, bsz }, before) => {
        const p = new EpochPlanner(ndata, bsz);
        for (let e = 0; e < before; e++) [...p.epoch()];
        p.reset();
        expect(p.start).toBe(0);
        const seen: number[] = [];
        for (const b of p.epoch()) seen.push(...b.rows.subarray(0, b.valid));
        expect(seen).toEqual(Array.from({ length: ndata }, (_, i) => i));
      }),
    );
  });

  it('with shuffle, the row stream is a sequence of whole permutations, and eval order still covers each example once', () => {
    fc.assert(
      fc.property(params, fc.integer({ min: 0, max: 2 ** 31 }), ({ ndata, bsz, epochs }, seed) => {
        const p = new EpochPlanner(ndata, bsz, true, seededRng(seed));
        const stream: number[] = [];
        for (let e = 0; e < epochs; e++) for (const b of p.epoch()) stream.push(...b.rows);
        for (let c = 0; c + ndata <= stream.length; c += ndata) {
          expect([...stream.slice(c, c + ndata)].sort((a, b) => a - b)).toEqual(Array.from({ length: ndata }, (_, i) => i));
        }
        p.reset();
        const seen: number[] = [];
        for (const b of p.epoch()) seen.push(...b.rows.subarray(0, b.valid));
        expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: ndata }, (_, i) => i));
      }),
    );
  });

  it('a small example by hand: ndata 10, bsz 4', () => {
    const p = new EpochPlanner(10, 4);
    const epoch = () => [...p.epoch()].map((b) => [Array.from(b.rows), b.valid]);
    expect(p.nbatches).toBe(3);
    expect(epoch()).toEqual([[[0, 1, 2, 3], 4], [[4, 5, 6, 7], 4], [[8, 9, 0, 1], 2]]);
    expect(p.start).toBe(2);
    expect(p.nbatches).toBe(2);
    expect(epoch()).toEqual([[[2, 3, 4, 5], 4], [[6, 7, 8, 9], 4]]);
    expect(p.start).toBe(0);
  });

  it('the seeded generator is deterministic and the permutation uniform-looking', () => {
    const a = seededRng(7), b = seededRng(7), c = seededRng(8);
    const xa = Array.from({ length: 5 }, a), xb = Array.from({ length: 5 }, b), xc = Array.from({ length: 5 }, c);
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    expect(xa.every((v) => v >= 0 && v < 1)).toBe(true);
    const counts = new Array(4).fill(0);
    const rng = seededRng(1);
    for (let i = 0; i < 4000; i++) counts[permutation(4, rng)[0]!]++;
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(120);
  });

  it('a passed-in generator is the one used', () => {
    let calls = 0;
    const rng = () => {
      calls++;
      return 0.5;
    };
    const p = new EpochPlanner(5, 2, true, rng);
    [...p.epoch()];
    expect(calls).toBeGreaterThan(0);
  });
});

describe('ArrayIterator', () => {
  it('gives the rows, one-hot targets and mean-subtracted inputs of the examples it names', () => {
    fc.assert(
      fc.property(params, fc.boolean(), ({ ndata, bsz, epochs }, shuffle) => {
        const F = 6;
        const x = Float32Array.from({ length: ndata * F }, (_, i) => i * 0.5);
        const y = Int32Array.from({ length: ndata }, (_, i) => (i * 5) % 3);
        const mean = Float32Array.of(1, 2);
        const it = new ArrayIterator({ x, lshape: [2, 3, 1], y, nclass: 3, bsz, shuffle, mean, seed: 3 });
        for (let e = 0; e < epochs; e++) {
          for (const b of it.batches()) {
            expect(b.xShape).toEqual([bsz, 2, 3, 1]);
            expect(b.tShape).toEqual([bsz, 3]);
            b.rows.forEach((r, k) => {
              for (let f = 0; f < F; f++) expect(b.x[k * F + f]).toBe(Math.fround(x[r * F + f]! - mean[f < 3 ? 0 : 1]!));
              expect(Array.from(b.t.subarray(k * 3, k * 3 + 3))).toEqual([0, 1, 2].map((c) => (c === y[r] ? 1 : 0)));
            });
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('rejects bad arrays with one clear message', async () => {
    const x = new Float32Array(12);
    expect((await tlError(() => new ArrayIterator({ x, lshape: [5], bsz: 1 }))).message).toMatch(/12 values, not a multiple of the example size 5/);
    expect((await tlError(() => new ArrayIterator({ x, lshape: [2, 2], bsz: 4 }))).message).toMatch(/3 examples, fewer than the batch size 4/);
    expect((await tlError(() => new ArrayIterator({ x, lshape: [4], y: [0, 1, 2], nclass: 2, bsz: 1 }))).message).toMatch(
      /label 2 of example 2 is outside \[0, 2\)/,
    );
    expect((await tlError(() => new ArrayIterator({ x, lshape: [4], y: [0, 1], nclass: 2, bsz: 1 }))).message).toMatch(/2 labels for 3 examples/);
    expect((await tlError(() => new ArrayIterator({ x, lshape: [4], mean: new Float32Array(3), bsz: 1 }))).message).toMatch(/mean has 3 values/);
  });
});

describe('skipEpochs (resume)', () => {
  it('lands where running the epochs would (ndata ≥ bsz, as neon asserts)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 6 }), (bsz, extra, epochs) => {
      const ndata = bsz + extra;
      const ran = new EpochPlanner(ndata, bsz);
      for (let e = 0; e < epochs; e++) for (const _ of ran.epoch()) void _;
      const skipped = new EpochPlanner(ndata, bsz);
      skipped.skipEpochs(epochs);
      expect([skipped.start, skipped.nbatches]).toEqual([ran.start, ran.nbatches]);
    }));
  });
});
