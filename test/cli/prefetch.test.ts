// `train` reads HDF5 training data through the prefetch thread by default (src/data/prefetch.ts,
// wired in src/cli/data.ts); --no_prefetch reads each batch when it is needed. Both train the
// same model from the same batches, and bad data is the same one-line error either way.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { cli, TINY, tinyWorkspace } from './run.js';

const { data, dir } = tinyWorkspace('tl-prefetch-');

describe('train with and without prefetch', () => {
  it('--help names --no_prefetch', () => {
    const r = cli(['train', '--help'], dir('help'));
    expect(r.stdout).toMatch(/--no_prefetch\s+read each HDF5 training minibatch when it is needed/);
  });

  it('gives the same training costs and test outputs with prefetch (default) and --no_prefetch', () => {
    const runs = ['on', 'off'].map((mode) => {
      const d = dir(`same-${mode}`);
      const r = cli(['train', '--data_root', data, '-e', '2', '-z', '5', ...TINY, '--no_progress_bar', '--inference_file', 'inf.txt', ...(mode === 'off' ? ['--no_prefetch'] : [])], d);
      expect(r.code, r.stderr).toBe(0);
      return { costs: r.stdout.split('\n').filter((l) => /cost/i.test(l) && !/time|s\/|img\/s/.test(l)), inf: readFileSync(join(d, 'inf.txt'), 'utf8') };
    });
    expect(runs[0]!.inf).toMatch(/\d\.\d{4,}/); // the outputs with their digits, so a batch read wrong would show
    expect(runs[0]!.costs.length).toBeGreaterThan(0);
    expect(runs[0]!.inf).toBe(runs[1]!.inf);
    expect(runs[0]!.costs).toEqual(runs[1]!.costs);
  }, 240_000);

  it('a NaN in train.h5: the same one line and exit 1 with and without prefetch, and the process ends', async () => {
    const d = dir('nan');
    const n = 10, F = 3 * 32 * 32;
    const x = new Float32Array(n * F).map((_, i) => (i * 7) % 200);
    x[7 * F + 5] = NaN;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    for (const f of ['train.h5', 'test.h5']) await writeNeonH5(join(d, f), { x: f === 'train.h5' ? x : x.map((v) => (Number.isNaN(v) ? 0 : v)), labels, lshape: [3, 32, 32], nclass: 2 });
    const errs = [[], ['--no_prefetch']].map((extra) => {
      const r = cli(['train', '--data_root', '.', '-e', '1', '-z', '5', ...TINY, '--no_progress_bar', '--inference_file', 'inf.txt', ...extra], d);
      expect(r.code).toBe(1); // and not null: the process ended by itself, within cli()'s timeout
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      return r.stderr;
    });
    expect(errs[0]).toContain("train.h5: example 7 of 'input' has 1 NaN");
    expect(errs[0]).toBe(errs[1]);
    expect(existsSync(join(d, 'inf.txt'))).toBe(false);
  }, 240_000);
});
