// prepare at scale: worker threads keep the item order (1 and 2 workers write the same
// files) and write the reference rows of the kept images, a run killed part-way continues from its shards and ends with the same files, a
// missing or damaged JPEG is skipped by name while the run goes on, and a full disk is one
// line with nothing under the final names.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepare, type PrepareProgress } from '../../src/data/index.js';
import { decodeImage, resizeToRow } from '../../src/data/image.js';
import { loadWasmJpegDecoder } from '../../src/data/jpeg-wasm.js';
import { openH5 } from '../../src/formats/h5.js';
import { fix, tempDir, tlError } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Every dataset's values and every attribute of a prepared file. */
async function contents(path: string): Promise<Record<string, unknown>> {
  const f = await openH5(path);
  try {
    const out: Record<string, unknown> = {};
    for (const name of f.keys()) {
      const d = f.get(name) as unknown as { value: ArrayLike<number>; shape: number[]; attrs: Record<string, { value: unknown }> };
      out[name] = { shape: d.shape, value: Array.from(d.value), attrs: Object.fromEntries(Object.entries(d.attrs).map(([k, a]) => [k, JSON.stringify(a.value, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v))])) };
    }
    return out;
  } finally {
    f.close();
  }
}

const bothFiles = async (out: string) => ({ train: await contents(join(out, 'train.h5')), test: await contents(join(out, 'test.h5')) });

/** A seeded class-coloured JPEG with blobs, w × h (a different size per image, so crops differ). */
function blobJpeg(seed: number, cls: number, w: number, h: number): Uint8Array {
  let s = seed * 2654435761 >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const data = new Uint8Array(w * h * 4);
  const base = cls === 0 ? [200, 60, 40] : [40, 80, 200];
  const blobs = Array.from({ length: 4 }, () => ({ x: rnd() * w, y: rnd() * h, r: 3 + rnd() * 10, c: [rnd() * 255, rnd() * 255, rnd() * 255] }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const b = blobs.find((b) => (x - b.x) ** 2 + (y - b.y) ** 2 < b.r ** 2);
      const c = b ? b.c : base;
      for (let k = 0; k < 3; k++) data[(y * w + x) * 4 + k] = c[k]!;
      data[(y * w + x) * 4 + 3] = 255;
    }
  }
  return encodeJpeg({ data, width: w, height: h }, 85).data;
}

/** ROOT/<a|b>/*.jpg: n images per class, one truncated JPEG among them. */
function jpegFolder(root: string, n: number): string[] {
  const damaged: string[] = [];
  for (const [cls, name] of [[0, 'a'], [1, 'b']] as const) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < n; i++) {
      const j = blobJpeg(100 * cls + i, cls, 40 + (i % 7) * 3, 36 + (i % 5) * 4);
      const path = join(root, name, `img${String(i).padStart(3, '0')}.jpg`);
      if (cls === 1 && i === 5) {
        writeFileSync(path, j.subarray(0, Math.floor(j.length / 2)));
        damaged.push(path);
      } else writeFileSync(path, j);
    }
  }
  return damaged;
}

const folder = join(tmp.dir, 'images');
let damaged: string[] = [];
beforeAll(() => {
  damaged = jpegFolder(folder, 24);
}, 60_000);

describe('prepare on worker threads', () => {
  it('2 workers write the same datasets and attributes as 1 (image folder), and the truncated JPEG is skipped by name', async () => {
    const opts = { imageFolder: folder, size: 24, testFraction: 0.25, shardImages: 5 };
    const r1 = await prepare({ ...opts, out: join(tmp.dir, 'w1'), workers: 1 });
    const r2 = await prepare({ ...opts, out: join(tmp.dir, 'w2'), workers: 2 });
    expect(await bothFiles(join(tmp.dir, 'w2'))).toEqual(await bothFiles(join(tmp.dir, 'w1')));
    expect(r2.skippedItems).toEqual(r1.skippedItems);
    expect(r1.skippedItems.map((s) => [s.item, s.reason])).toEqual(damaged.map((d) => [d, 'undecodable']));
    expect(r1.skippedItems[0]!.detail).toMatch(/truncated/);
    expect(r1.kept).toBe(47);
    expect(readFileSync(join(tmp.dir, 'w2', 'skipped.txt'), 'utf8')).toContain(damaged[0]);
    // the work in progress is gone once the files are in place
    expect(readdirSync(join(tmp.dir, 'w2')).sort()).toEqual(['skipped.txt', 'test.h5', 'train.h5']);
  });

  it('every row the workers write is the reference row of one kept image (RGB decode, resizeToRow), the gap of a skip in the shard closed', async () => {
    // one shard per split, so the truncated JPEG sits among rows that come after it
    const out = join(tmp.dir, 'ref');
    await prepare({ imageFolder: folder, size: 24, testFraction: 0.25, shardImages: 1000, workers: 2, out });
    const jpeg = await loadWasmJpegDecoder();
    const F = 3 * 24 * 24;
    const want = readdirSync(folder).flatMap((c) => readdirSync(join(folder, c)).map((f) => join(folder, c, f)))
      .filter((f) => !damaged.includes(f))
      .map((f) => Buffer.from(resizeToRow(decodeImage(readFileSync(f), f, jpeg), 24, 'rgb')).toString('base64'));
    const got: string[] = [];
    const files = (await bothFiles(out)) as Record<string, Record<string, { value: number[] }>>;
    for (const split of ['train', 'test']) {
      const x = files[split]!['input']!.value;
      for (let i = 0; i < x.length / F; i++) got.push(Buffer.from(x.slice(i * F, (i + 1) * F)).toString('base64'));
    }
    expect(got.sort()).toEqual(want.sort());
  });

  it('2 workers write the same as 1 (IMDB-WIKI crops), and a missing file in the list is skipped by name', async () => {
    const opts = { imdbWiki: fix('wiki'), size: 16, testFraction: 0.5, shardImages: 2 };
    const r1 = await prepare({ ...opts, out: join(tmp.dir, 'k1'), workers: 1 });
    const r2 = await prepare({ ...opts, out: join(tmp.dir, 'k2'), workers: 2 });
    expect(await bothFiles(join(tmp.dir, 'k2'))).toEqual(await bothFiles(join(tmp.dir, 'k1')));
    expect(r2.skippedItems).toEqual(r1.skippedItems);
    expect(r1.skipped['missing file']).toBeGreaterThan(0);
  });

  it('a run killed part-way continues from its shards and finishes with the same files as a run never stopped', async () => {
    const opts = { imageFolder: folder, size: 24, testFraction: 0.25, shardImages: 4, workers: 2 };
    const clean = join(tmp.dir, 'clean');
    await prepare({ ...opts, out: clean });
    const out = join(tmp.dir, 'killed');
    // the child prepares from the built files and stops itself after 20 images until killed
    const index = resolve(__dirname, '..', '..', 'dist', 'src', 'data', 'prepare', 'index.js');
    const script = `import { prepare } from ${JSON.stringify(index)};
      await prepare({ ...${JSON.stringify({ ...opts, out })}, onProgress: (p) => {
        if (p.done === 20) { console.log('at 20'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); }
      } });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('at 20')) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? res() : rej(new Error(`the child ended by itself (${signal})`))));
    });
    expect(existsSync(join(out, 'train.h5'))).toBe(false);
    const shards = readdirSync(join(out, '.prepare-partial')).filter((f) => f.endsWith('.shard'));
    expect(shards.length).toBe(4); // 20 images done: 4 shards of 4 written, the 5th under way
    const progress: PrepareProgress[] = [];
    const r = await prepare({ ...opts, out, onProgress: (p) => progress.push(p) });
    expect(r.resumed).toBe(16);
    expect(progress[0]!.resumed).toBe(4); // shard by shard, without decoding again
    expect(progress.at(-1)!.done).toBe(48);
    expect(await bothFiles(out)).toEqual(await bothFiles(clean));
    expect(readdirSync(out).sort()).toEqual(['skipped.txt', 'test.h5', 'train.h5']);
    // other options are another run: its shards are not reused
    const r3 = await prepare({ ...opts, out, size: 20 });
    expect(r3.resumed).toBe(0);
  }, 60_000);

  it('bad --workers is a usage error', async () => {
    expect((await tlError(() => prepare({ imageFolder: folder, out: join(tmp.dir, 'bad'), workers: 0 }))).message).toMatch(/workers must be an integer in \[1, 256\], got 0/);
  });
});

describe('a full disk while preparing', () => {
  it('is one line naming the file and how to continue; nothing is under the final names', async (ctx) => {
    const disk = join(tmp.dir, 'disk');
    mkdirSync(disk, { recursive: true });
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', disk]).status !== 0) ctx.skip();
    try {
      const out = join(disk, 'out');
      const e = await tlError(() => prepare({ imageFolder: folder, out, size: 48, shardImages: 8, workers: 2 }));
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message).toMatch(/no space left on the device.*run the same command again to continue/);
      expect(readdirSync(out).filter((f) => f.endsWith('.h5'))).toEqual([]);
    } finally {
      spawnSync('umount', [disk]);
      rmSync(disk, { recursive: true, force: true });
    }
  });
});
