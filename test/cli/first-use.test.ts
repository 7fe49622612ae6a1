// Issue 11, "What a user hits first": eval on a test set alone, neon's save rules,
// progress of the test pass.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openH5, type H5Dataset, type H5Group } from '../../src/formats/h5.js';
import { cli, TINY, writeTinyData } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'tl-first-'));
const data = join(work, 'data');

beforeAll(async () => {
  mkdirSync(data);
  await writeTinyData(data);
}, 60_000);

function dir(name: string): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Parameters (no optimizer states) and the attributes of a checkpoint. */
async function checkpoint(path: string): Promise<{ params: Record<string, number[]>; epochIndex: number }> {
  const f = await openH5(path);
  try {
    const params: Record<string, number[]> = {};
    const layers = f.get('layers') as H5Group;
    for (const name of layers.keys()) {
      const g = layers.get(name) as H5Group;
      for (const k of g.keys()) if (k !== 'states') params[`${name}/${k}`] = Array.from((g.get(k) as H5Dataset).value as Float32Array);
    }
    return { params, epochIndex: Number(f.attrs.epoch_index!.value) };
  } finally {
    f.close();
  }
}

const train = (args: string[], cwd: string) => cli(['train', '--data_root', data, '-z', '4', ...TINY, '--lr', '0.01', '--no_progress_bar', ...args], cwd);

describe('eval needs only the test set', () => {
  it('reads DIR/test.h5 alone and gives the accuracy and inference file it gives with the training set beside it; the test pass shows its progress', () => {
    const d = dir('eval-test-only');
    expect(train(['-e', '2', '--save_path', 'm.h5', '--serialize', '2'], d).code).toBe(0);
    const only = dir('eval-test-only/new-test-set');
    copyFileSync(join(data, 'test.h5'), join(only, 'test.h5'));
    const r = cli(['eval', '--model_file', 'm.h5', '--data_root', only, ...TINY, '--inference_file', 'only.txt'], d);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`data: ${join(only, 'test.h5')}: 10 test examples of shape (3, 32, 32), 2 classes`);
    // The test pass shows its progress: a plain line off a terminal (the pipe here), no carriage return.
    expect(r.stdout).toMatch(/^test: 10\/10 images \(\d+\.\ds\)$/m);
    expect(r.stdout).not.toContain('\r');
    const both = cli(['eval', '--model_file', 'm.h5', '--data_root', data, ...TINY, '--inference_file', 'both.txt', '--no_progress_bar'], d);
    expect(both.code).toBe(0);
    expect(both.stdout).not.toMatch(/^test: /m);
    expect(/Accuracy = .*/.exec(r.stdout)![0]).toBe(/Accuracy = .*/.exec(both.stdout)![0]);
    expect(readFileSync(join(d, 'only.txt'), 'utf8')).toBe(readFileSync(join(d, 'both.txt'), 'utf8'));
    expect(readFileSync(join(d, 'only.txt'), 'utf8').trim().split('\n')).toHaveLength(11);
  });
  it('a folder without test.h5 is a usage error naming it', () => {
    const d = dir('eval-no-test');
    copyFileSync(join(data, 'train.h5'), join(d, 'train.h5'));
    const e = cli(['eval', '--model_file', join(data, 'train.h5'), '--data_root', d, ...TINY], work);
    expect(e.code).toBe(2);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(/has no test\.h5 \(it holds train\.h5\)/);
  });
  it('train shows the progress of its final test pass after the epochs', () => {
    const d = dir('train-test-progress');
    const r = cli(['train', '--data_root', data, '-z', '4', ...TINY, '-e', '1'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Epoch 1 .*\n(.*\n)*test: 10\/10 images \(\d+\.\ds\)\nAccuracy = /m);
  });
});

describe("neon's save rules", () => {
  it('--save_path alone saves every epoch (serialize 1), with a one-line warning', async () => {
    const d = dir('save-path-alone');
    const r = train(['-e', '2', '-s', 'm.h5'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tl-scratch: warning: --save_path m.h5 without --serialize: a checkpoint every epoch (--serialize 1, as neon)\n');
    expect((await checkpoint(join(d, 'm.h5'))).epochIndex).toBe(2);
  });
  it('--serialize N alone saves to model.h5 in the working directory, with a one-line warning; --help says so', async () => {
    const d = dir('serialize-alone');
    const r = train(['-e', '2', '--serialize', '2'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tl-scratch: warning: --serialize 2 without --save_path: checkpoints go to model.h5 (as neon, which uses a default file name)\n');
    expect((await checkpoint(join(d, 'model.h5'))).epochIndex).toBe(2);
    const h = cli(['train', '--help'], work).stdout.replace(/\s+/g, ' ');
    expect(h).toContain('else to model.h5 in the working directory');
    expect(h).toContain('without --serialize, one every epoch');
  });
  it('neither: no checkpoint and no warning', () => {
    const d = dir('no-save');
    const r = train(['-e', '1'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(existsSync(join(d, 'model.h5'))).toBe(false);
  });
});
