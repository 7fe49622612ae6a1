import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrayIterator, HDF5Iterator, HDF5IteratorOneHot, writeNeonH5, type DataIterator } from '../../src/data/index.js';
import { fix, tempDir, tlError } from './helpers.js';

interface ExpBatch { rows: number[]; valid: number; x: number[]; t: number[] }
type Step = { op: 'reset' } | { op: 'epoch'; nbatches: number; batches: ExpBatch[]; startAfter: number };
interface Case { file: string; onehot: boolean; bsz: number; lshape: number[]; ndata: number; nclass: number; steps: Step[] }

const cases = JSON.parse(readFileSync(fix('expected.json'), 'utf8')) as Case[];

describe('HDF5 iterators against a re-implementation of neon (h5py fixtures)', () => {
  for (const c of cases) {
    it(`${c.onehot ? 'HDF5IteratorOneHot' : 'HDF5Iterator'} ${c.file} bsz=${c.bsz} ${c.steps.map((s) => (s.op === 'reset' ? 'R' : 'E')).join('')}`, async () => {
      const path = fix('h5', c.file);
      const it: DataIterator = c.onehot ? await HDF5IteratorOneHot.open(path, { bsz: c.bsz }) : await HDF5Iterator.open(path, { bsz: c.bsz });
      try {
        expect(it.ndata).toBe(c.ndata);
        expect([...it.lshape]).toEqual(c.lshape);
        expect(it.nclass).toBe(c.nclass);
        expect(it.bsz).toBe(c.bsz);
        for (const step of c.steps) {
          if (step.op === 'reset') {
            it.reset();
            expect(it.start).toBe(0);
            continue;
          }
          expect(it.nbatches).toBe(step.nbatches);
          const got = [...it.batches()];
          expect(got.length).toBe(step.nbatches);
          got.forEach((b, i) => {
            const e = step.batches[i]!;
            expect(Array.from(b.rows)).toEqual(e.rows);
            expect(b.valid).toBe(e.valid);
            expect(b.xShape).toEqual([c.bsz, ...c.lshape]);
            expect(b.tShape).toEqual([c.bsz, c.nclass]);
            expect(Array.from(b.x)).toEqual(e.x);
            expect(Array.from(b.t)).toEqual(e.t);
          });
          expect(it.start).toBe(step.startAfter);
        }
      } finally {
        it.close();
      }
    });
  }
});

describe('our writer round-trips through the iterators', () => {
  it('uint8 and float32 inputs, per-channel and full means, as ArrayIterator gives them', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const N = 11, lshape = [2, 3, 2] as const, F = 12;
      const x8 = Uint8Array.from({ length: N * F }, (_, i) => (i * 37) % 256);
      const labels = Int32Array.from({ length: N }, (_, i) => (i * 7) % 3);
      const variants = [
        { name: 'u8c.h5', x: x8 as Uint8Array | Float32Array, mean: Float32Array.of(10.5, 100.25) },
        { name: 'f32f.h5', x: Float32Array.from(x8, (v) => v / 7), mean: Float32Array.from({ length: F }, (_, i) => i / 3) },
        { name: 'nomean.h5', x: x8, mean: undefined },
      ];
      for (const v of variants) {
        const p = join(dir, v.name);
        await writeNeonH5(p, { x: v.x, lshape, labels, nclass: 3, classNames: ['a', 'b', 'c'], mean: v.mean });
        const h = await HDF5IteratorOneHot.open(p, { bsz: 4 });
        const a = new ArrayIterator({ x: Float32Array.from(v.x), lshape, y: labels, nclass: 3, mean: v.mean, bsz: 4 });
        try {
          for (let e = 0; e < 4; e++) {
            const hb = [...h.batches()];
            const ab = [...a.batches()];
            expect(hb.length).toBe(ab.length);
            hb.forEach((b, i) => {
              expect(b.x).toEqual(ab[i]!.x);
              expect(b.t).toEqual(ab[i]!.t);
              expect(b.valid).toBe(ab[i]!.valid);
              expect(b.rows).toEqual(ab[i]!.rows);
            });
          }
        } finally {
          h.close();
        }
      }
    } finally {
      cleanup();
    }
  });

  it('shuffled epochs from a seeded generator match between HDF5 and array iterators', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const N = 9, F = 4;
      const x = Float32Array.from({ length: N * F }, (_, i) => i);
      const labels = Int32Array.from({ length: N }, (_, i) => i % 2);
      const p = join(dir, 's.h5');
      await writeNeonH5(p, { x, lshape: [1, 2, 2], labels, nclass: 2 });
      const h = await HDF5IteratorOneHot.open(p, { bsz: 4, shuffle: true, seed: 5 });
      const a = new ArrayIterator({ x, lshape: [1, 2, 2], y: labels, nclass: 2, bsz: 4, shuffle: true, seed: 5 });
      try {
        let differsFromFileOrder = false;
        for (let e = 0; e < 3; e++) {
          const hb = [...h.batches()];
          const ab = [...a.batches()];
          hb.forEach((b, i) => {
            expect(b.x).toEqual(ab[i]!.x);
            expect(b.rows).toEqual(ab[i]!.rows);
            // each row holds the example its index names
            b.rows.forEach((r, k) => expect(b.x[k * F]).toBe(r * F));
            if (b.rows.some((r, k) => k > 0 && r !== b.rows[k - 1]! + 1)) differsFromFileOrder = true;
          });
        }
        expect(differsFromFileOrder).toBe(true);
      } finally {
        h.close();
      }
    } finally {
      cleanup();
    }
  });
});

describe('bad HDF5 input gives one TlError naming the file and the problem', () => {
  const cases: [string, 'onehot' | 'plain', RegExp, number?][] = [
    ['missing.h5', 'onehot', /missing\.h5: no such file/],
    ['not_hdf5.h5', 'onehot', /not_hdf5\.h5: not an HDF5 file/],
    ['truncated.h5', 'onehot', /truncated\.h5: .*(truncated|damaged)/],
    ['bad_no_input.h5', 'onehot', /bad_no_input\.h5: no dataset 'input'/],
    ['bad_input_group.h5', 'plain', /bad_input_group\.h5: 'input' is not a dataset/],
    ['bad_input_3d.h5', 'plain', /bad_input_3d\.h5: 'input' has shape \(6, 3, 4\); expected 2-D/],
    ['bad_no_lshape.h5', 'onehot', /bad_no_lshape\.h5: dataset 'input' has no attribute 'lshape'/],
    ['bad_lshape.h5', 'onehot', /bad_lshape\.h5: lshape \(3, 2, 3\) has 18 values but each row of input has 12/],
    ['bad_no_output.h5', 'onehot', /bad_no_output\.h5: no dataset 'output'/],
    ['bad_no_nclass.h5', 'onehot', /bad_no_nclass\.h5: dataset 'output' has no attribute 'nclass'/],
    ['bad_label_high.h5', 'onehot', /bad_label_high\.h5: 'output': label 3 of example 2 is outside \[0, 3\)/],
    ['bad_label_negative.h5', 'onehot', /bad_label_negative\.h5: 'output': label -1 of example 3 is outside \[0, 3\)/],
    ['bad_onehot_output.h5', 'onehot', /bad_onehot_output\.h5: 'output' has 18 values for 6 examples; .*class indices/],
    ['bad_mean.h5', 'onehot', /bad_mean\.h5: 'mean' has 5 values; expected 12 .* or 3/],
    ['i16_nomean.h5', 'onehot', /i16_nomean\.h5: 9 examples, fewer than the batch size 10/, 10],
  ];
  for (const [file, kind, re, bsz] of cases) {
    it(`${file} (${kind})`, async () => {
      const open = kind === 'onehot' ? HDF5IteratorOneHot.open : HDF5Iterator.open;
      const err = await tlError(() => open(fix('h5', file), { bsz: bsz ?? 2 }));
      expect(err.message).toMatch(re);
      expect(err.message.split('\n')).toHaveLength(1);
    });
  }

  it('a file without output is fine for the plain iterator (no targets)', async () => {
    const it = await HDF5Iterator.open(fix('h5', 'bad_no_output.h5'), { bsz: 4 });
    try {
      const b = [...it.batches()];
      expect(b).toHaveLength(2);
      expect(b[0]!.t.length).toBe(0);
      expect(it.nclass).toBe(0);
    } finally {
      it.close();
    }
  });
});
