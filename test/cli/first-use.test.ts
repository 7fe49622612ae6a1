// Issue 11, "What a user hits first": eval on a test set alone, progress of the test pass.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
