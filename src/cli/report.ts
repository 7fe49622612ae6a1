// The report of `--experiment all` and `demo`: a comparison table, loss and accuracy curves
// per experiment as SVG images, and each run's inference file, in one folder with index.md.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentName, ExperimentResult } from '../transfer/experiment.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { int, markdownTable, pct, table } from './format.js';
import { lineChart, type Series } from './svg.js';

const COLORS: Record<ExperimentName, string> = { scratch: '#d62728', finetune: '#1f77b4', extract: '#2ca02c' };

export interface RunRecord extends ExperimentResult {
  seed: number;
  /** Inference file name inside the report folder. */
  inferenceFile?: string;
}

export interface ComparisonRow {
  experiment: ExperimentName;
  runs: RunRecord[];
}

export function groupRuns(runs: RunRecord[]): ComparisonRow[] {
  const order: ExperimentName[] = ['scratch', 'finetune', 'extract'];
  return order.map((e) => ({ experiment: e, runs: runs.filter((r) => r.experiment === e) })).filter((g) => g.runs.length);
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function accuracyCell(runs: RunRecord[]): string {
  const acc = runs.map((r) => r.testAccuracy);
  if (acc.length === 1) return pct(acc[0]!);
  return `${pct(mean(acc))} (${pct(Math.min(...acc))}–${pct(Math.max(...acc))})`;
}

export function comparisonTable(runs: RunRecord[], markdown = false): string {
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const header = ['experiment', 'layers imported', 'trainable params', seeds > 1 ? `test accuracy, mean (range) over ${seeds} seeds` : 'test accuracy', 'final cost', 'time'];
  const rows = groupRuns(runs).map(({ experiment, runs: rs }) => [
    experiment,
    String(rs[0]!.imported.length),
    `${int(rs[0]!.trainableParams)} of ${int(rs[0]!.totalParams)}`,
    accuracyCell(rs),
    mean(rs.map((r) => r.finalCost)).toFixed(3),
    `${mean(rs.map((r) => r.seconds)).toFixed(1)}s${rs.length > 1 ? ' each' : ''}`,
  ]);
  return markdown ? markdownTable(header, rows) : table(header, rows, (j) => j >= 2);
}

export interface ReportOptions {
  dir: string;
  title: string;
  /** Lines describing how the runs were made (command, data, model). */
  setup: string[];
  runs: RunRecord[];
}

export function writeReport(o: ReportOptions): string {
  mkdirSync(o.dir, { recursive: true });
  const costSeries: Series[] = [];
  const accSeries: Series[] = [];
  for (const r of o.runs) {
    const label = `${r.experiment}${new Set(o.runs.map((x) => x.seed)).size > 1 ? ` s${r.seed}` : ''}`;
    costSeries.push({ name: label, color: COLORS[r.experiment], points: r.history.map((h) => [h.epoch, h.trainCost]) });
    accSeries.push({ name: `${label} train`, color: COLORS[r.experiment], points: r.history.map((h) => [h.epoch, h.trainAccuracy]) });
    const evals = r.history.filter((h) => h.evalAccuracy !== undefined);
    if (evals.length) accSeries.push({ name: `${label} test`, color: COLORS[r.experiment], dashed: true, points: evals.map((h) => [h.epoch, h.evalAccuracy!]) });
  }
  writeFileAtomicSync(join(o.dir, 'loss.svg'), lineChart({ title: 'Training cost per epoch', xLabel: 'epoch', yLabel: 'cost (CrossEntropyBinary)', series: costSeries }));
  writeFileAtomicSync(join(o.dir, 'accuracy.svg'), lineChart({ title: 'Accuracy (solid: training minibatches; dashed: test set)', xLabel: 'epoch', yLabel: 'accuracy', series: accSeries, yMin: 0, yMax: 1 }));
  const images = ['![training cost](loss.svg)', '![accuracy](accuracy.svg)'];
  const runsTable = markdownTable(['experiment', 'seed', 'test accuracy', 'final cost', 'time', 'inference file'], o.runs.map((r) => [
    r.experiment, String(r.seed), pct(r.testAccuracy), r.finalCost.toFixed(3), `${r.seconds.toFixed(1)}s`, r.inferenceFile ? `[${r.inferenceFile}](${r.inferenceFile})` : '',
  ]));
  const md = [
    `# ${o.title}`,
    '',
    ...o.setup.map((l) => `- ${l}`),
    '',
    '## Comparison',
    '',
    comparisonTable(o.runs, true),
    '',
    ...images.flatMap((i) => [i, '']),
    '## Runs',
    '',
    runsTable,
    '',
  ].join('\n');
  const path = join(o.dir, 'index.md');
  writeFileAtomicSync(path, md);
  return path;
}
