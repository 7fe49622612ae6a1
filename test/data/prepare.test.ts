import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HDF5IteratorOneHot, prepare, type PrepareProgress } from '../../src/data/index.js';
import { openH5 } from '../../src/formats/h5.js';
import { fix, tempDir, tlError } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** input rows (uint8), labels and attributes of a prepared file, read back directly. */
async function readBack(path: string) {
  const f = await openH5(path);
  try {
    const input = f.get('input') as unknown as { shape: number[]; value: Uint8Array; attrs: Record<string, { value: unknown }> };
    const output = f.get('output') as unknown as { value: Int32Array; attrs: Record<string, { value: unknown }> };
    const mean = f.get('mean') as unknown as { value: Float32Array };
    return {
      shape: input.shape,
      x: input.value,
      lshape: Array.from(input.attrs['lshape']!.value as Int32Array),
      y: Array.from(output.value),
      nclass: output.attrs['nclass']!.value,
      classNames: output.attrs['class_names']!.value,
      mean: Array.from(mean.value),
    };
  } finally {
    f.close();
  }
}

const centre = (x: Uint8Array, row: number, C: number, S: number) =>
  Array.from({ length: C }, (_, c) => x[row * C * S * S + c * S * S + (S / 2) * S + S / 2]!);
const close = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

describe('prepare from IMDB-WIKI (wiki.mat written by scipy)', () => {
  const expected = JSON.parse(readFileSync(fix('wiki', 'expected.json'), 'utf8')) as {
    file: string; gender: number | null; colour: number[] | null; expected: string;
  }[];

  it('keeps and drops exactly the expected rows, crops the faces, labels 0 = female, 1 = male', async () => {
    const out = join(tmp.dir, 'wiki');
    const progress: PrepareProgress[] = [];
    const r = await prepare({ imdbWiki: fix('wiki'), out, size: 16, testFraction: 0.5, onProgress: (p) => progress.push(p) });
    const want: Record<string, number> = {};
    for (const e of expected) if (e.expected !== 'keep') want[e.expected] = (want[e.expected] ?? 0) + 1;
    expect(r.skipped).toEqual(want);
    expect(r.considered).toBe(expected.length);
    const keep = expected.filter((e) => e.expected === 'keep');
    expect(r.kept).toBe(keep.length);
    expect(r.classNames).toEqual(['female', 'male']);
    // The stratified split draws among the listed faces before their images are decoded, so
    // which split an undecodable one would have filled depends on the seed; per class, the
    // two splits together hold exactly the kept faces.
    const perGender = [0, 1].map((g) => keep.filter((k) => k.gender === g).length);
    expect(r.train.perClass.map((n, c) => n + r.test.perClass[c]!)).toEqual(perGender);
    expect(r.train.count).toBeGreaterThan(0);
    expect(r.test.count).toBeGreaterThan(0);
    // progress over every image that was decoded or tried
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: progress.length }, (_, i) => i + 1));
    expect(progress.at(-1)!.total).toBe(progress.length);

    const seen: string[] = [];
    for (const split of ['train', 'test']) {
      const b = await readBack(join(out, `${split}.h5`));
      expect(b.lshape).toEqual([3, 16, 16]);
      expect(b.nclass).toBe(2);
      expect(b.classNames).toEqual(['female', 'male']);
      expect(b.mean.map((v) => Math.fround(v))).toEqual(r.mean.map((v) => Math.fround(v)));
      b.y.forEach((label, row) => {
        const c = centre(b.x, row, 3, 16);
        const match = keep.find((k) => close(c, k.colour!, 12));
        expect(match, `row ${row} of ${split}: centre ${c}`).toBeDefined();
        expect(label).toBe(match!.gender);
        seen.push(match!.file);
      });
    }
    expect(seen.sort()).toEqual(keep.map((k) => k.file).sort());
    // atomic writes leave no temporary files
    // and skipped.txt, naming every row not kept with its reason (the report's skippedItems)
    expect(readdirSync(out).sort()).toEqual(['skipped.txt', 'test.h5', 'train.h5']);
    expect(r.skippedItems.map((s) => s.reason).sort()).toEqual(expected.filter((e) => e.expected !== 'keep').map((e) => e.expected).sort());
    expect(readFileSync(join(out, 'skipped.txt'), 'utf8').trim().split('\n')).toHaveLength(1 + r.skippedItems.length);
    expect(r.read).toBe(progress.length);
  });

  it('minFaceScore and the file name of a missing folder', async () => {
    const r = await prepare({ imdbWiki: fix('wiki'), out: join(tmp.dir, 'wiki2'), size: 8, minFaceScore: 0.5, testFraction: 0 });
    // 0.8 and 1.0 pass now; both images exist (solid 90 background, black face)
    expect(r.skipped['face score too low']).toBeUndefined();
    expect(r.kept).toBe(6);
    expect(r.test.count).toBe(0);
    expect((await tlError(() => prepare({ imdbWiki: fix('nowhere'), out: tmp.dir }))).message).toMatch(/nowhere: no such folder/);
    expect((await tlError(() => prepare({ imdbWiki: fix('folder'), out: tmp.dir }))).message).toMatch(/folder: neither wiki\.mat nor imdb\.mat/);
  });
});

describe('prepare from an image folder tree', () => {
  const RED = [200, 20, 30], BLUE = [10, 40, 210];

  it('round-trips through prepare and HDF5IteratorOneHot (rgb), skipping what cannot be used', async () => {
    const out = join(tmp.dir, 'folder-rgb');
    const r = await prepare({ imageFolder: fix('folder'), out, size: 8, testFraction: 0.25, rngSeed: 3 });
    expect(r.classNames).toEqual(['a_red', 'b_blue']);
    expect(r.skipped).toEqual({ 'not an image file': 1, undecodable: 1, unreadable: 1 });
    expect(r.kept).toBe(9);
    expect(r.train.count + r.test.count).toBe(9);
    expect(r.train.perClass[0]! + r.test.perClass[0]!).toBe(5);
    expect(r.train.perClass[1]! + r.test.perClass[1]!).toBe(4);

    const it = await HDF5IteratorOneHot.open(join(out, 'train.h5'), { bsz: 2 });
    try {
      expect(it.lshape).toEqual([3, 8, 8]);
      expect(it.nclass).toBe(2);
      it.reset();
      let n = 0;
      for (const b of it.batches()) {
        for (let k = 0; k < b.valid; k++, n++) {
          const label = b.t[k * 2] === 1 ? 0 : 1;
          // every pixel of the centre-cropped image is the class colour (mean added back)
          for (let c = 0; c < 3; c++) {
            for (let p = 0; p < 64; p++) {
              const v = b.x[k * 192 + c * 64 + p]! + r.mean[c]!;
              expect(Math.abs(v - (label === 0 ? RED : BLUE)[c]!)).toBeLessThanOrEqual(12);
            }
          }
        }
      }
      expect(n).toBe(r.train.count);
    } finally {
      it.close();
    }
    // mean = per-channel mean of the training rows
    const b = await readBack(join(out, 'train.h5'));
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let i = 0; i < b.y.length; i++) for (let p = 0; p < 64; p++) s += b.x[i * 192 + c * 64 + p]!;
      expect(b.mean[c]).toBeCloseTo(s / (b.y.length * 64), 3);
    }
    const t = await readBack(join(out, 'test.h5'));
    expect(t.mean).toEqual(b.mean);
  });

  it('bgr and gray channel orders; the same seed gives the same files, another seed another order', async () => {
    const bgr = await prepare({ imageFolder: fix('folder'), out: join(tmp.dir, 'bgr'), size: 4, channels: 'bgr', testFraction: 0 });
    const xb = await readBack(join(tmp.dir, 'bgr', 'train.h5'));
    xb.y.forEach((label, row) => expect(close(centre(xb.x, row, 3, 4), [...(label === 0 ? RED : BLUE)].reverse(), 12)).toBe(true));
    expect(bgr.lshape).toEqual([3, 4, 4]);

    await prepare({ imageFolder: fix('folder'), out: join(tmp.dir, 'gray'), size: 4, channels: 'gray', testFraction: 0 });
    const xg = await readBack(join(tmp.dir, 'gray', 'train.h5'));
    expect(xg.lshape).toEqual([1, 4, 4]);
    const luma = (c: number[]) => (299 * c[0]! + 587 * c[1]! + 114 * c[2]!) / 1000;
    xg.y.forEach((label, row) => expect(Math.abs(centre(xg.x, row, 1, 4)[0]! - luma(label === 0 ? RED : BLUE))).toBeLessThanOrEqual(10));

    await prepare({ imageFolder: fix('folder'), out: join(tmp.dir, 's1'), size: 4, testFraction: 0, rngSeed: 11 });
    await prepare({ imageFolder: fix('folder'), out: join(tmp.dir, 's1b'), size: 4, testFraction: 0, rngSeed: 11 });
    await prepare({ imageFolder: fix('folder'), out: join(tmp.dir, 's2'), size: 4, testFraction: 0, rngSeed: 12 });
    const [a, a2, c] = await Promise.all(['s1', 's1b', 's2'].map((d) => readBack(join(tmp.dir, d, 'train.h5'))));
    expect(a2!.y).toEqual(a!.y);
    expect(a2!.x).toEqual(a!.x);
    expect(c!.x).not.toEqual(a!.x);
  });

  it('errors: an empty class folder, a missing root, no source or two sources', async () => {
    expect((await tlError(() => prepare({ imageFolder: fix('folder_empty'), out: tmp.dir }))).message).toMatch(
      /folder_empty\/b: class 'b' has no \.jpg, \.jpeg or \.png images/,
    );
    expect((await tlError(() => prepare({ imageFolder: fix('nope'), out: tmp.dir }))).message).toMatch(/nope: no such folder/);
    expect((await tlError(() => prepare({ out: tmp.dir }))).message).toMatch(/exactly one source/);
    expect((await tlError(() => prepare({ out: tmp.dir, builtin: 'mnist', imageFolder: fix('folder') }))).message).toMatch(/exactly one source/);
    expect((await tlError(() => prepare({ out: tmp.dir, imageFolder: fix('folder'), testFraction: 1.5 }))).message).toMatch(/testFraction/);
  });
});

describe('prepare from built-in data', () => {
  it('fashion-tshirt-shirt, 10 per class, padded to 32x32, replicated to rgb', async () => {
    const out = join(tmp.dir, 'fashion');
    const r = await prepare({ builtin: 'fashion-tshirt-shirt', out, perClass: 10, size: 32, fit: 'pad', channels: 'rgb' });
    expect(r.train.perClass).toEqual([10, 10]);
    expect(r.test.perClass).toEqual([1000, 1000]);
    expect(r.classNames).toEqual(['T-shirt/top', 'Shirt']);
    expect(r.lshape).toEqual([3, 32, 32]);
    const it = await HDF5IteratorOneHot.open(join(out, 'test.h5'), { bsz: 128 });
    try {
      expect(it.ndata).toBe(2000);
      const first = it.batches().next().value!;
      expect(first.xShape).toEqual([128, 3, 32, 32]);
      // padding is zero before mean subtraction
      expect(first.x[0]! + r.mean[0]!).toBeCloseTo(0, 4);
    } finally {
      it.close();
    }
  });

  it('an unknown built-in name is a usage error', async () => {
    expect((await tlError(() => prepare({ builtin: 'cifar' as 'mnist', out: tmp.dir }))).message).toMatch(/unknown built-in data set 'cifar'/);
  });
});
