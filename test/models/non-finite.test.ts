// Checkpoints are never written from parameters (or optimizer states) that hold NaN or ±Inf:
// the error names the layer, and a checkpoint already at the path stays as it was.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { TlError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-nonfinite-'));
const tiny = () => generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });

describe('checkpoints and non-finite parameters', () => {
  for (const [label, v] of [['NaN', NaN], ['+Inf', Infinity], ['-Inf', -Infinity]] as const) {
    it(`save refuses a ${label} weight, naming the layer; the previous checkpoint is unchanged`, async () => {
      const m = tiny();
      m.initialize([3, 32, 32]);
      const p = join(dir, `c${label}.h5`);
      await m.save(p);
      const good = readFileSync(p);
      const fc = m.layers.find((l) => l.name === 'fc6_new')!;
      const w = fc.params().find((q) => q.name === 'W')!.value;
      const vals = Float32Array.from(w.toHost());
      vals[7] = v;
      vals[9] = v;
      w.setValues(vals);
      const e = await m.save(p).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TlError);
      expect((e as Error).message).toBe(`checkpoint ${p} not written: layer 'fc6_new' W has 2 ${label} among its ${vals.length} values; training diverged: lower the learning rate (--lr); a checkpoint already there is unchanged`);
      expect(readFileSync(p).equals(good)).toBe(true);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
      const q = join(dir, `new${label}.h5`);
      await expect(m.save(q)).rejects.toThrow(TlError);
      expect(existsSync(q)).toBe(false);
    });
  }

  it('loading a checkpoint with a non-finite weight names the layer and leaves the model unchanged', async () => {
    const m = tiny();
    m.initialize([3, 32, 32]);
    const p = join(dir, 'ok.h5');
    await m.save(p);
    const { h5wasm } = await import('../../src/formats/h5.js');
    await h5wasm.ready;
    const f = new h5wasm.File(p, 'a');
    const ds = f.get('layers/conv1_1/W') as unknown as { write_slice: (r: [number, number][], d: Float32Array) => void };
    ds.write_slice([[0, 1], [0, 1], [1, 2], [0, 1]], Float32Array.of(NaN));
    f.close();
    const other = tiny();
    other.initialize([3, 32, 32]);
    const before = Float32Array.from(other.layers.find((l) => l.name === 'conv1_1')!.params()[0]!.value.toHost());
    await expect(other.loadParams(p)).rejects.toThrow(`checkpoint ${p}: layer 'conv1_1' W: 1 NaN among its 108 values (first at index 3)`);
    expect(Float32Array.from(other.layers.find((l) => l.name === 'conv1_1')!.params()[0]!.value.toHost())).toEqual(before);
  });
});
