// A big weight file must load with memory under 1.5x its size: the neon reader reads the
// file into one buffer and returns linear weights as views into it (no second copy).
// The files are generated here, streamed to a temporary directory, never held whole.

import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWeightFile } from '../../src/formats/index.js';
import { PickleWriter, type PyIn } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-formats-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOUT = 1024;
const NIN = 16384; // 64 MiB of float32
const CHUNK = 1 << 20;

/** Deterministic pseudo-random bytes for chunk `i` (xorshift32). */
function chunkBytes(i: number): Buffer {
  const b = Buffer.alloc(CHUNK);
  let x = (0x9e3779b9 ^ (i * 0x85ebca6b)) >>> 0 || 1;
  for (let k = 0; k < CHUNK; k += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, k);
  }
  return b;
}

function writeBig(path: string, py2: boolean): void {
  const bytes = NOUT * NIN * 4;
  const chunks = bytes / CHUNK;
  let utf8Len = 0;
  if (!py2) {
    for (let i = 0; i < chunks; i++) {
      const c = chunkBytes(i);
      let hi = 0;
      for (const v of c) if (v >= 0x80) hi++;
      utf8Len += CHUNK + hi;
    }
  }
  const w = new PickleWriter(py2);
  w.raw([0x7d, 0x28]); // {  MARK
  w.text('neon_version');
  w.text('2.6.0');
  w.text('model');
  w.raw([0x7d, 0x28]);
  w.text('type');
  w.text('neon.layers.container.Sequential');
  w.text('container');
  w.raw([0x88]);
  w.text('config');
  w.raw([0x7d, 0x28]);
  w.text('name');
  w.text('Sequential_0');
  w.text('layers');
  w.raw([0x5d, 0x28]); // [ MARK
  w.raw([0x7d, 0x28]);
  w.text('type');
  w.text('neon.layers.layer.Linear');
  w.text('config');
  w.value(new Map<string, PyIn>([['name', 'fc6'], ['nout', NOUT]]));
  w.text('params');
  w.raw([0x7d, 0x28]);
  w.text('W');
  w.streamedArray([NOUT, NIN], bytes, utf8Len);
  w.raw([0x75, 0x75]); // params, layer
  w.raw([0x65, 0x75, 0x75, 0x75]); // layers list, config, model, root
  const [head, tail] = w.finishSegments();
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head!);
    for (let i = 0; i < chunks; i++) {
      const c = chunkBytes(i);
      writeSync(fd, py2 ? c : Buffer.from(c.toString('latin1'), 'utf8'));
    }
    writeSync(fd, tail!);
  } finally {
    closeSync(fd);
  }
}

describe('memory use of big files', () => {
  for (const py2 of [true, false]) {
    it(`a ${py2 ? 'Python 2' : 'Python 3 (_codecs.encode)'} neon pickle with a 64 MiB linear layer loads under 1.5x its size`, async () => {
      const path = join(dir, py2 ? 'big_py2.p' : 'big_py3.p');
      writeBig(path, py2);
      const size = statSync(path).size;
      const before = process.memoryUsage().arrayBuffers;
      const wf = await readWeightFile(path);
      const used = process.memoryUsage().arrayBuffers - before;
      expect(used).toBeLessThan(1.5 * size);
      const W = wf.layers[0]!.params[0]!;
      expect(W.shape).toEqual([NOUT, NIN]);
      // a view into the file buffer, with the bytes written
      expect(W.data.buffer.byteLength).toBeGreaterThanOrEqual(NOUT * NIN * 4);
      const first = chunkBytes(0);
      const last = chunkBytes(NOUT * NIN * 4 / CHUNK - 1);
      const got = Buffer.from(W.data.buffer, W.data.byteOffset, W.data.byteLength);
      expect(got.subarray(0, 64).equals(first.subarray(0, 64))).toBe(true);
      expect(got.subarray(got.length - 64).equals(last.subarray(CHUNK - 64))).toBe(true);
    });
  }
});
