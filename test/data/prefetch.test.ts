// PrefetchIterator (src/data/prefetch.ts) gives exactly the batches of the HDF5 iterator it
// wraps, read on a worker thread: same inputs, targets, rows and valid counts over several
// epochs, shuffled or not, after skipEpochs and reset; a read error in the worker is the same
// TlError; the worker never keeps the process alive. The worker runs from dist/ (build first).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NeonH5Writer } from '../../src/data/h5write.js';
import { HDF5IteratorOneHot, type HDF5IteratorOptions } from '../../src/data/hdf5.js';
import type { Batch, BatchOptions, DataIterator } from '../../src/data/iterator.js';
import { PrefetchIterator } from '../../src/data/prefetch.js';
import { tempDir, tlError } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let fileNo = 0;

/** A neon file of n examples of shape lshape: uint8 pixels, or float32 with `nanRow` holding a NaN; labels i mod nclass. */
async function writeFile(n: number, lshape: [number, number, number], o: { float?: boolean; nanRow?: number; mean?: 'channel' | 'full'; nclass?: number } = {}): Promise<string> {
  const path = join(tmp.dir, `d${fileNo++}.h5`);
  const nclass = o.nclass ?? 3;
  const F = lshape[0] * lshape[1] * lshape[2];
  const w = await NeonH5Writer.create(path, { lshape, nclass, dtype: o.float ? 'float32' : 'uint8' });
  try {
    for (let i = 0; i < n; i++) {
      const row = o.float ? new Float32Array(F) : new Uint8Array(F);
      for (let k = 0; k < F; k++) row[k] = (i * 31 + k * 7) % 251;
      if (i === o.nanRow) row[F >> 1] = NaN;
      w.append(row, i % nclass);
    }
    if (o.mean === 'channel') w.writeMean(Float32Array.from({ length: lshape[0] }, (_, c) => 10.5 + c));
    if (o.mean === 'full') w.writeMean(Float32Array.from({ length: F }, (_, k) => (k % 13) + 0.25));
  } finally {
    w.close();
  }
  return path;
}

/** Every batch of `epochs` epochs, copied (x, t, rows, valid, shapes), with the start before each. */
function collect(it: DataIterator, epochs: number, opts?: BatchOptions): { starts: number[]; batches: Batch[] } {
  const starts: number[] = [], batches: Batch[] = [];
  for (let e = 0; e < epochs; e++) {
    starts.push(it.start);
    for (const b of it.batches(opts)) batches.push({ ...b, x: b.x.slice(), t: b.t.slice(), rows: b.rows.slice() });
  }
  return { starts, batches };
}

async function pair(path: string, opts: HDF5IteratorOptions): Promise<[HDF5IteratorOneHot, PrefetchIterator]> {
  const plain = await HDF5IteratorOneHot.open(path, opts);
  const pre = new PrefetchIterator(await HDF5IteratorOneHot.open(path, opts));
  return [plain, pre];
}

describe('PrefetchIterator', () => {
  it('gives the same batches as the iterator without prefetch (fast-check over size, batch size, seed, shuffle, mean)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        fc.constantFrom(undefined, 'channel' as const, 'full' as const),
        fc.integer({ min: 0, max: 2 }),
        async (bsz, extra, seed, shuffle, mean, ahead) => {
          const n = bsz + extra;
          const path = await writeFile(n, [2, 3, 2], { mean });
          const plain = await HDF5IteratorOneHot.open(path, { bsz, shuffle, seed });
          const pre = new PrefetchIterator(await HDF5IteratorOneHot.open(path, { bsz, shuffle, seed }), { ahead });
          try {
            expect(pre.nbatches).toBe(plain.nbatches);
            const a = collect(plain, 3), b = collect(pre, 3);
            expect(b.starts).toEqual(a.starts);
            expect(b.batches.length).toBe(a.batches.length);
            b.batches.forEach((x, i) => expect(x).toEqual(a.batches[i]));
          } finally {
            plain.close();
            pre.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('keeps the last partial batch with its wrap-around rows, and neon\'s start, over two epochs', async () => {
    const path = await writeFile(10, [1, 2, 2], { mean: 'channel' });
    const [plain, pre] = await pair(path, { bsz: 4 });
    try {
      const a = collect(plain, 2), b = collect(pre, 2);
      expect(b.batches.map((x) => x.valid)).toEqual([4, 4, 2, 4, 4]);
      expect(Array.from(b.batches[2]!.rows)).toEqual([8, 9, 0, 1]);
      expect(b.starts).toEqual([0, 2]);
      expect(b).toEqual(a);
    } finally {
      plain.close();
      pre.close();
    }
  });

  it('follows skipEpochs (resume) and reset as the iterator does', async () => {
    const path = await writeFile(23, [3, 2, 2], { mean: 'full' });
    const [plain, pre] = await pair(path, { bsz: 5 });
    try {
      plain.skipEpochs(3);
      pre.skipEpochs(3);
      expect(pre.start).toBe(plain.start);
      expect(pre.start).not.toBe(0);
      expect(collect(pre, 2)).toEqual(collect(plain, 2));
      plain.reset();
      pre.reset();
      expect(collect(pre, 1)).toEqual(collect(plain, 1));
    } finally {
      plain.close();
      pre.close();
    }
  });

  it('asks needInputs for each batch and leaves out the inputs it does not need, as without prefetch', async () => {
    const path = await writeFile(12, [1, 2, 2]);
    const [plain, pre] = await pair(path, { bsz: 3, shuffle: true, seed: 7 });
    const need = { needInputs: (rows: Int32Array) => rows[0]! % 2 === 0 };
    try {
      const a = collect(plain, 2, need), b = collect(pre, 2, need);
      expect(b.batches.some((x) => x.x.length === 0)).toBe(true);
      expect(b).toEqual(a);
    } finally {
      plain.close();
      pre.close();
    }
  });

  it('an epoch left early does not shift the next one: the stale reply is dropped', async () => {
    const path = await writeFile(16, [1, 2, 2]);
    const [plain, pre] = await pair(path, { bsz: 4 });
    try {
      for (const it of [plain, pre]) {
        for (const _ of it.batches()) break; // one batch, then leave the epoch
        it.reset();
      }
      expect(collect(pre, 2)).toEqual(collect(plain, 2));
    } finally {
      plain.close();
      pre.close();
    }
  });

  it('a read error in the worker is the same one-line TlError as without prefetch', async () => {
    const path = await writeFile(12, [1, 2, 2], { float: true, nanRow: 9 });
    const [plain, pre] = await pair(path, { bsz: 4 });
    try {
      const a = await tlError(() => collect(plain, 1));
      const b = await tlError(() => collect(pre, 1));
      expect(b.message).toBe(a.message);
      expect(b.message).toMatch(/example 9 of 'input'/);
      expect(b.message).not.toContain('\n');
    } finally {
      plain.close();
      pre.close();
    }
  });

  it('a closed iterator says so', async () => {
    const path = await writeFile(8, [1, 2, 2]);
    const pre = new PrefetchIterator(await HDF5IteratorOneHot.open(path, { bsz: 4 }));
    pre.close();
    expect((await tlError(() => collect(pre, 1))).message).toMatch(/closed/);
  });

  it('the worker never keeps the process alive: it exits after the epochs, closed or not, and after an error', async () => {
    const path = await writeFile(12, [1, 2, 2], { float: true, nanRow: 11 });
    const dist = resolve(__dirname, '..', '..', 'dist', 'src', 'data');
    const script = (close: boolean) => `
      const { HDF5IteratorOneHot } = await import(${JSON.stringify(join(dist, 'hdf5.js'))});
      const { PrefetchIterator } = await import(${JSON.stringify(join(dist, 'prefetch.js'))});
      const it = new PrefetchIterator(await HDF5IteratorOneHot.open(${JSON.stringify(path)}, { bsz: 4 }));
      let n = 0;
      try { for (const b of it.batches()) n++; } catch (e) { console.log('error: ' + e.message); }
      for (const b of it.batches()) n++;
      console.log('batches ' + n);
      ${close ? 'it.close();' : ''}`;
    for (const close of [true, false]) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(close)], { encoding: 'utf8', timeout: 60_000 });
      expect(r.signal).toBeNull(); // not killed by the timeout: the process ended by itself
      expect(r.stdout).toMatch(/error: .*example 11 of 'input'/);
      expect(r.stderr).toMatch(/example 11 of 'input'/); // the second epoch's error, uncaught
      expect(r.status).not.toBe(0);
    }
    const ok = await writeFile(12, [1, 2, 2]);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(false).replaceAll(JSON.stringify(path), JSON.stringify(ok))], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('batches 6');
  }, 120_000);
});
