// Every writer of a file the user keeps (checkpoint, neon HDF5 data as prepare writes it,
// export, inference file, prepare's shards) under ENOSPC, EIO and EACCES injected at the opening of its
// temporary, at its first, middle and last write, and at the rename onto the target
// (src/util/fault-inject.ts): a TlError with one line naming the file and the reason, the
// previous file byte for byte as it was, no temporary left beside it.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { writeTestPass } from '../../src/cli/inference.js';
import { exportModel } from '../../src/export/index.js';
import { saveCheckpoint } from '../../src/index.js';
import { smallModel } from '../helpers/small-model.js';
import { writeFileAtomicSync } from '../../src/util/atomic.js';
import { TlError } from '../../src/util/errors.js';
import { injectFaults, type FaultCounts } from '../../src/util/fault-inject.js';

interface Writer {
  name: string;
  file: string;
  write: (path: string) => unknown;
}

const model = smallModel();
const WRITERS: Writer[] = [
  { name: 'checkpoint (HDF5)', file: 'ckpt.h5', write: (p) => saveCheckpoint(model, p) },
  {
    name: 'neon HDF5 data (prepare)', file: 'train.h5',
    write: (p) => writeNeonH5(p, { x: new Uint8Array(4 * 3 * 8 * 8).map((_, i) => i % 251), labels: Int32Array.of(0, 1, 0, 1), lshape: [3, 8, 8], nclass: 2, classNames: ['a', 'b'], mean: Float32Array.of(1, 2, 3) }),
  },
  // prepare's shards: a header and tens of MB of rows written one after the other, not joined
  { name: 'a file written in parts (prepare\'s shards)', file: 'train-000000.shard', write: (p) => writeFileAtomicSync(p, [Uint8Array.of(1, 2, 3), new Uint8Array(1000).fill(7), Uint8Array.of(9)]) },
  { name: 'export (ONNX)', file: 'm.onnx', write: (p) => exportModel(model, p, 'onnx') },
  { name: 'inference file', file: 'inference.txt', write: (p) => writeTestPass(p, { accuracy: 0.5, outputs: Float32Array.of(0.25, 0.75, 0.5, 0.5), nout: 2, targets: Int32Array.of(1, 0) }) },
];

/** What the message says for each code (src/util/fs-errors.ts words them). */
const REASON: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EIO: 'input/output error',
  EACCES: 'permission denied',
};

async function attempt(w: Writer, path: string, spec: string): Promise<{ error: unknown; counts: FaultCounts }> {
  const { counts, restore } = injectFaults(spec, w.file);
  try {
    await w.write(path);
    return { error: null, counts };
  } catch (e) {
    return { error: e, counts };
  } finally {
    restore();
  }
}

describe('faults during writes', () => {
  for (const w of WRITERS) {
    it(`${w.name}: ENOSPC, EIO, EACCES at the open, the first, middle and last write and the rename: one line, the previous file intact, no temporary`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tl-wfault-'));
      const path = join(dir, w.file);
      // a clean write, counted: how many writes there are to fail
      const clean = await attempt(w, path, 'count');
      expect(clean.error).toBeNull();
      expect(clean.counts.open).toBeGreaterThanOrEqual(1);
      expect(clean.counts.write).toBeGreaterThanOrEqual(1);
      expect(clean.counts.rename).toBe(1);
      const previous = readFileSync(path);
      const n = clean.counts.write;
      const places = [...new Set(['open:1', 'write:1', `write:${Math.ceil(n / 2)}`, `write:${n}`, 'rename:1'])];
      for (const code of Object.keys(REASON)) {
        for (const place of places) {
          const spec = `${code}:${place}`;
          const r = await attempt(w, path, spec);
          expect(r.error, spec).toBeInstanceOf(TlError);
          const msg = (r.error as TlError).message;
          expect(msg, spec).not.toContain('\n');
          expect(msg, spec).toContain(path);
          expect(msg, spec).toContain(REASON[code]);
          expect(msg, spec).not.toMatch(/tmp-\d|injected/);
          expect(readFileSync(path).equals(previous), `${spec}: the previous ${w.file} was changed`).toBe(true);
          expect(readdirSync(dir), spec).toEqual([w.file]);
        }
      }
      // and the writer still works afterwards (nothing left half-open)
      writeFileSync(path, 'old');
      expect((await attempt(w, path, 'count')).error).toBeNull();
      expect(readFileSync(path).length).toBe(previous.length);
      expect(readdirSync(dir)).toEqual([w.file]);
    }, 60_000);
  }
});
