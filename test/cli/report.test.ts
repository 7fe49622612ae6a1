// The report of `demo` and `train --experiment all`: one series and one min–max band per
// experiment, test accuracy where evaluation ran (and titles that promise only what is
// drawn), a summary computed from the numbers, and no absolute path of the machine.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acrossSeeds, overlapNotes, summarize, uniformCost, writeReport, type RunRecord } from '../../src/cli/report.js';
import type { ExperimentName } from '../../src/transfer/experiment.js';

function run(experiment: ExperimentName, seed: number, acc: number, costs: number[], evals?: number[]): RunRecord {
  return {
    experiment, seed, imported: experiment === 'scratch' ? [] : ['conv1_1'], trainableParams: 10, totalParams: 20,
    testAccuracy: acc, finalCost: costs[costs.length - 1]!, seconds: 1,
    history: costs.map((c, i) => ({ epoch: i + 1, trainCost: c, trainAccuracy: 0.5, seconds: i + 1, ...(evals ? { evalAccuracy: evals[i]!, evalLoss: c } : {}) })),
  };
}

const RUNS: RunRecord[] = [
  run('scratch', 0, 0.50, [1.38, 1.38, 1.37], [0.5, 0.5, 0.5]),
  run('scratch', 1, 0.54, [1.40, 1.38, 1.35], [0.5, 0.52, 0.54]),
  run('finetune', 0, 0.70, [1.30, 1.00, 0.80], [0.6, 0.66, 0.70]),
  run('finetune', 1, 0.74, [1.20, 0.90, 0.70], [0.62, 0.7, 0.74]),
  run('extract', 0, 0.72, [1.30, 1.10, 0.85], [0.6, 0.68, 0.72]),
  run('extract', 1, 0.48, [1.30, 1.10, 0.90], [0.5, 0.49, 0.48]),
];

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

describe('report', () => {
  it('one line and one min–max band per experiment in both charts; the test-accuracy chart where evaluation ran', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    writeReport({ dir, title: 't', setup: ['x'], runs: RUNS });
    const loss = readFileSync(join(dir, 'loss.svg'), 'utf8'), acc = readFileSync(join(dir, 'accuracy.svg'), 'utf8');
    for (const svg of [loss, acc]) {
      expect(count(svg, /<polyline class="series"/g)).toBe(3);
      expect(count(svg, /<polygon class="band"/g)).toBe(3);
      for (const e of ['scratch', 'finetune', 'extract']) expect(svg).toContain(`data-name="${e}"`);
      // one colour per experiment: three distinct strokes on the lines
      expect(new Set([...svg.matchAll(/<polyline class="series" data-name="\w+" fill="none" stroke="(#\w+)"/g)].map((m) => m[1])).size).toBe(3);
    }
    expect(acc).toMatch(/Test accuracy per epoch \(mean over 2 seeds, band: min–max\)/);
    expect(loss).toMatch(/training cost \(CrossEntropyBinary\)/);
    expect(loss).toMatch(/uniform output 1\.39/);
    // the band of finetune at epoch 3 spans 0.70..0.74 of test accuracy: mean line at 0.72
    expect(acrossSeeds(RUNS.filter((r) => r.experiment === 'finetune'), (h) => h.evalAccuracy)[2]).toEqual({ epoch: 3, mean: 0.72, min: 0.7, max: 0.74 });
  });

  it('without evaluation the accuracy chart says it shows the training minibatches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    writeReport({ dir, title: 't', setup: [], runs: RUNS.map((r) => ({ ...r, history: r.history.map(({ evalAccuracy: _a, evalLoss: _l, ...h }) => h) })) });
    const acc = readFileSync(join(dir, 'accuracy.svg'), 'utf8');
    expect(acc).toMatch(/Accuracy on the training minibatches per epoch .*no test evaluation ran/);
    expect(acc).not.toMatch(/Test accuracy/);
  });

  it('the summary is computed from the runs, seed by seed', () => {
    const s = summarize(RUNS);
    expect(s).toContain('finetune beats scratch on 2 of 2 seeds by 20.0 points of test accuracy on average');
    expect(s).toContain('extract beats scratch on 1 of 2 seeds by 8.0 points');
    expect(s).toContain('The mean training cost went scratch from 1.39 to 1.36, finetune from 1.25 to 0.75, extract from 1.30 to 0.88 (a uniform output costs 1.39).');
    const worse = summarize([run('scratch', 0, 0.8, [1]), run('extract', 0, 0.6, [1])]);
    expect(worse).toContain('extract trails scratch on 1 of 1 seed by 20.0 points');
    expect(uniformCost('CrossEntropyBinary', 2)).toBeCloseTo(2 * Math.log(2), 12);
    expect(uniformCost('CrossEntropyMulti', 8)).toBeCloseTo(Math.log(8), 12);
  });

  it('the test curves start at the evaluation before training, and the summary says where they went', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    const withStart = RUNS.map((r) => ({ ...r, initialEval: { epoch: 0, accuracy: r.experiment === 'scratch' ? 0.5 : 0.46, loss: 1.4 } }));
    writeReport({ dir, title: 't', setup: [], runs: withStart });
    const acc = readFileSync(join(dir, 'accuracy.svg'), 'utf8'), loss = readFileSync(join(dir, 'loss.svg'), 'utf8');
    const points = (svg: string) => [...svg.matchAll(/<polyline class="series"[^>]* points="([^"]*)"/g)].map((m) => m[1]!.trim().split(/\s+/).length);
    expect(points(acc)).toEqual([4, 4, 4]); // epoch 0 and the three evaluated epochs
    expect(points(loss)).toEqual([3, 3, 3]); // no training cost before training
    expect(summarize(withStart)).toContain('the mean test accuracy before training and after it: scratch from 50.0% to 52.0%, finetune from 46.0% to 72.0%, extract from 46.0% to 60.0%.');
    expect(summarize(RUNS)).not.toContain('before training');
  });

  it('curves that lie on each other are both visible (extract dashed) and the legend says they overlap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    const twins = RUNS.map((r) => (r.experiment === 'extract' ? { ...RUNS.find((f) => f.experiment === 'finetune' && f.seed === r.seed)!, experiment: 'extract' as const } : r));
    writeReport({ dir, title: 't', setup: [], runs: twins });
    const acc = readFileSync(join(dir, 'accuracy.svg'), 'utf8');
    expect(acc).toMatch(/<polyline class="series" data-name="extract"[^>]*stroke-dasharray/);
    expect(acc).not.toMatch(/<polyline class="series" data-name="finetune"[^>]*stroke-dasharray/);
    expect(acc).toContain('finetune and extract');
    expect(acc).toContain('overlap (≤ 0.0 apart)');
    // apart by more than 1% of the range: no such note
    const apart = readFileSync((writeReport({ dir, title: 't', setup: [], runs: RUNS }), join(dir, 'accuracy.svg')), 'utf8');
    expect(apart).not.toContain('overlap');
    expect(overlapNotes([{ name: 'a', color: '', points: [[1, 0.5], [2, 0.6]] }, { name: 'b', color: '', points: [[1, 0.505], [2, 0.6]] }], 1)).toEqual(['a and b', 'overlap (≤ 0.0050 apart)']);
  });

  it('holds no absolute path of the machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    writeReport({ dir, title: 't', setup: ['a line'], runs: RUNS });
    for (const f of ['index.md', 'loss.svg', 'accuracy.svg']) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text).not.toContain(dir);
      expect(text).not.toContain(process.cwd());
      expect(text).not.toMatch(/(^|[\s(:'"])\/(home|root|tmp|work|usr|var|Users)\//m);
    }
  });
});
