// NaN and ±Inf in data and weights: one clear line naming the file, the example (or the
// layer) and the count, exit 1, and no inference file or checkpoint written from them.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { h5wasm, type H5Dataset, type H5Group } from '../../src/formats/h5.js';
import { cli, TINY, tinyWorkspace } from './run.js';

const { work, data, dir } = tinyWorkspace('tl-nonfinite-');
const oneLine = (s: string): void => expect(s.trim().split('\n'), s).toHaveLength(1);

/** A float32 neon-format file of 10 examples (3, 32, 32) with `bad` at value 17 of each example in `rows`. */
async function writeFloatData(path: string, bad: number, rows: number[]): Promise<void> {
  const n = 10, F = 3 * 32 * 32;
  const x = new Float32Array(n * F).map((_, i) => (i * 7) % 200);
  for (const r of rows) x[r * F + 17] = bad;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  await writeNeonH5(path, { x, labels, lshape: [3, 32, 32], nclass: 2, classNames: ['dark', 'bright'], mean: Float32Array.from([100, 100, 100]) });
}

/** Put `v` into the first value of the checkpoint's first layer with a W, and return that layer's name. */
async function poisonCheckpoint(path: string, v: number): Promise<string> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'a');
  try {
    const layers = f.get('layers') as H5Group;
    const name = JSON.parse(String(layers.attrs['layer_order']!.value)).find((l: string) => (layers.get(l) as H5Group).keys().includes('W')) as string;
    const w = (layers.get(name) as H5Group).get('W') as H5Dataset;
    w.write_slice(w.shape!.map(() => [0, 1] as [number, number]), Float32Array.of(v));
    return name;
  } finally {
    f.close();
  }
}

beforeAll(() => {
  const t = cli(['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--save_path', 'm.h5', '--serialize', '1', '--no_progress_bar'], work);
  if (t.code !== 0) throw new Error(t.stderr);
}, 120_000);

describe('non-finite data', () => {
  for (const [label, v] of [['NaN', NaN], ['+Inf', Infinity]] as const) {
    it(`eval of a test.h5 with one ${label} pixel: exit 1, one line naming the file, the example and the count; no inference file`, async () => {
      const d = dir(`eval-${label}`);
      await writeFloatData(join(d, 'test.h5'), v, [3]);
      const r = cli(['eval', '--model_file', '../m.h5', '--data_root', '.', '-z', '5', '--no_progress_bar', '--inference_file', 'inf.txt'], d);
      expect(r.code).toBe(1);
      oneLine(r.stderr);
      expect(r.stderr).toContain(`test.h5: example 3 of 'input' has 1 ${label} (first at value 17 of 3072); 1 of the 10 examples hold non-finite values (1 in all)`);
      expect(r.stderr).not.toMatch(/internal error|    at /);
      expect(r.stdout).not.toContain('Accuracy');
      expect(existsSync(join(d, 'inf.txt'))).toBe(false);
      expect(readdirSync(d).filter((f) => f.includes('.tmp'))).toEqual([]);
    });
  }

  it('the count covers the whole file, not just the batch that met the first one', async () => {
    const d = dir('eval-many');
    await writeFloatData(join(d, 'test.h5'), -Infinity, [1, 6, 9]);
    const r = cli(['eval', '--model_file', '../m.h5', '--data_root', '.', '-z', '2', '--no_progress_bar'], d);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("example 1 of 'input' has 1 -Inf");
    expect(r.stderr).toContain('3 of the 10 examples hold non-finite values (3 in all)');
  });

  it('train on a train.h5 with a NaN pixel stops before any checkpoint is written', async () => {
    const d = dir('train-nan');
    await writeFloatData(join(d, 'train.h5'), NaN, [4]);
    await writeFloatData(join(d, 'test.h5'), 1, []);
    const r = cli(['train', '--data_root', '.', '-e', '1', '-z', '5', ...TINY, '--save_path', 'ck.h5', '--serialize', '1', '--no_progress_bar'], d);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("train.h5: example 4 of 'input' has 1 NaN");
    expect(existsSync(join(d, 'ck.h5'))).toBe(false);
    expect(existsSync(join(d, 'inference.txt'))).toBe(false);
  });

  it("a NaN in the data file's mean is named at open", async () => {
    const d = dir('mean-nan');
    const n = 10, F = 3 * 32 * 32;
    await writeNeonH5(join(d, 'test.h5'), { x: new Uint8Array(n * F), labels: Int32Array.from({ length: n }, (_, i) => i % 2), lshape: [3, 32, 32], nclass: 2, mean: Float32Array.from([100, NaN, 100]) });
    const r = cli(['eval', '--model_file', '../m.h5', '--data_root', '.', '-z', '5', '--no_progress_bar'], d);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("test.h5: 'mean' has 1 NaN (first at value 1 of 3)");
  });
});

describe('non-finite weights', () => {
  it('eval and train --model_file / --source_model with a NaN in a checkpoint name the layer; nothing written', async () => {
    const d = dir('ckpt-nan');
    copyFileSync(join(work, 'm.h5'), join(d, 'nan.h5'));
    const layer = await poisonCheckpoint(join(d, 'nan.h5'), NaN);
    const e = cli(['eval', '--model_file', 'nan.h5', '--data_root', data, '-z', '5', '--no_progress_bar'], d);
    expect(e.code).toBe(1);
    oneLine(e.stderr);
    expect(e.stderr).toContain(`nan.h5: layer '${layer}' W: 1 NaN among its`);
    expect(existsSync(join(d, 'inference.txt'))).toBe(false);
    const t = cli(['train', '--data_root', data, '-e', '1', '-z', '5', ...TINY, '--source_model', 'nan.h5', '--save_path', 'ck.h5', '--serialize', '1', '--no_progress_bar'], d);
    expect(t.code).toBe(1);
    oneLine(t.stderr);
    expect(t.stderr).toContain(`layer '${layer}' W: 1 NaN`);
    expect(existsSync(join(d, 'ck.h5'))).toBe(false);
  });

  it('an imported weight file (safetensors) with a +Inf names the layer', () => {
    const d = dir('st-inf');
    expect(cli(['export', '--model_file', '../m.h5', '--format', 'safetensors', '--out', 'm.safetensors'], d).code).toBe(0);
    const buf = readFileSync(join(d, 'm.safetensors'));
    const hlen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const t = header['features.0.weight']!; // conv1_1's W, read back as tl-scratch's name
    expect(t.dtype).toBe('F32');
    buf.writeFloatLE(Infinity, 8 + hlen + t.data_offsets[0] + 4 * 5);
    writeFileSync(join(d, 'inf.safetensors'), buf);
    const r = cli(['eval', '--model_file', 'inf.safetensors', '--data_root', data, ...TINY, '-z', '5', '--no_progress_bar'], d);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain("weight file inf.safetensors (safetensors): layer 'conv1_1' W has 1 +Inf among its 108 values (first at index 5)");
    expect(existsSync(join(d, 'inference.txt'))).toBe(false);
  });

  it("a checkpoint whose recorded mean holds an Inf is named when eval needs the mean", async () => {
    const d = dir('ckpt-mean');
    copyFileSync(join(work, 'm.h5'), join(d, 'm.h5'));
    await h5wasm.ready;
    const f = new h5wasm.File(join(d, 'm.h5'), 'a');
    (f.get('input_mean') as H5Dataset).write_slice([[0, 1]], Float32Array.of(Infinity));
    f.close();
    const r = cli(['eval', '--model_file', 'm.h5', '--data_root', data, '-z', '5', '--no_progress_bar'], d);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain('m.h5: input_mean: 1 +Inf among its 3 values');
  });
});
