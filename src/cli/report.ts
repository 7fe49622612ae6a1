// The report of `--experiment all` and `demo`: a comparison table, loss and accuracy curves
// per experiment as SVG images, and each run's inference file, in one folder with index.md.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentName, ExperimentResult } from '../transfer/experiment.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { int, markdownTable, pct, table } from './format.js';
import { lineChart, type Series } from './svg.js';

const COLORS: Record<ExperimentName, string> = { scratch: '#d62728', finetune: '#1f77b4', extract: '#2ca02c' };
/** extract is drawn last and dashed: where it runs on top of finetune (×0.001 barely moves the imported layers), both stay visible. */
const DASHED: Record<ExperimentName, boolean> = { scratch: false, finetune: false, extract: true };

/** Legend lines naming experiments whose mean curves lie within 1% of the y range of each other at every shared epoch. */
export function overlapNotes(series: Series[], yRange: number): string[] {
  const notes: string[] = [];
  for (let i = 0; i < series.length; i++) {
    for (let j = i + 1; j < series.length; j++) {
      const b = new Map(series[j]!.points);
      const gaps = series[i]!.points.filter(([x]) => b.has(x)).map(([x, y]) => Math.abs(y - b.get(x)!));
      if (gaps.length < 2) continue;
      const worst = Math.max(...gaps);
      if (worst <= 0.01 * yRange) notes.push(`${series[i]!.name} and ${series[j]!.name}`, `overlap (≤ ${worst.toPrecision(2)} apart)`);
    }
  }
  return notes;
}

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
  /** Lines describing how the runs were made (command, data, model). No absolute paths: the report may be shared. */
  setup: string[];
  runs: RunRecord[];
  /** The cost the runs train with, for the chart's y label (default CrossEntropyBinary). */
  costName?: string;
  /** Number of classes (for chance level and the cost of a uniform output). */
  nclass?: number;
}

/** Per epoch: mean, min and max over the runs of one experiment (epochs where every run has a value). */
export function acrossSeeds(runs: RunRecord[], value: (h: RunRecord['history'][number]) => number | undefined): { epoch: number; mean: number; min: number; max: number }[] {
  const epochs = [...new Set(runs.flatMap((r) => r.history.map((h) => h.epoch)))].sort((a, b) => a - b);
  const out: { epoch: number; mean: number; min: number; max: number }[] = [];
  for (const e of epochs) {
    const vs = runs.map((r) => r.history.find((h) => h.epoch === e)).map((h) => (h ? value(h) : undefined));
    if (vs.some((v) => v === undefined || !Number.isFinite(v))) continue;
    const xs = vs as number[];
    out.push({ epoch: e, mean: mean(xs), min: Math.min(...xs), max: Math.max(...xs) });
  }
  return out;
}

/** The cost of a uniform output 1/K under CrossEntropyBinary (K = 2: 2·ln 2) or CrossEntropyMulti (ln K). */
export function uniformCost(costName: string, K: number): number | null {
  if (costName === 'CrossEntropyBinary') return -Math.log(1 / K) - (K - 1) * Math.log(1 - 1 / K);
  if (costName === 'CrossEntropyMulti') return Math.log(K);
  return null;
}

/**
 * What the figures show, in two sentences computed from the numbers: how each transferred
 * experiment compares with scratch seed by seed, and how far the training cost fell.
 */
export function summarize(runs: RunRecord[], costName = 'CrossEntropyBinary', K = 2): string {
  const groups = groupRuns(runs);
  const by = new Map(groups.map((g) => [g.experiment, g.runs]));
  const sentences: string[] = [];
  const scratch = by.get('scratch');
  const comparisons: string[] = [];
  for (const e of ['finetune', 'extract'] as const) {
    const rs = by.get(e);
    if (!rs || !scratch) continue;
    const pairs = rs.map((r) => [r, scratch.find((s) => s.seed === r.seed)] as const).filter(([, s]) => s);
    if (!pairs.length) continue;
    const wins = pairs.filter(([r, s]) => r.testAccuracy > s!.testAccuracy).length;
    const diff = mean(pairs.map(([r, s]) => r.testAccuracy - s!.testAccuracy)) * 100;
    comparisons.push(`${e} ${diff >= 0 ? 'beats' : 'trails'} scratch on ${diff >= 0 ? wins : pairs.length - wins} of ${pairs.length} seed${pairs.length > 1 ? 's' : ''} by ${Math.abs(diff).toFixed(1)} points of test accuracy on average`);
  }
  if (comparisons.length) sentences.push(`${comparisons.join('; ')}.`);
  else if (groups.length) sentences.push(`${groups.map((g) => `${g.experiment} reaches ${pct(mean(g.runs.map((r) => r.testAccuracy)))} test accuracy on average`).join('; ')}.`);
  const u = uniformCost(costName, K);
  const falls = groups.map((g) => {
    const first = mean(g.runs.map((r) => r.history[0]?.trainCost ?? NaN)), last = mean(g.runs.map((r) => r.finalCost));
    return `${g.experiment} from ${first.toFixed(2)} to ${last.toFixed(2)}`;
  });
  const rises = groups.filter((g) => g.runs.every((r) => r.initialEval)).map((g) =>
    `${g.experiment} from ${pct(mean(g.runs.map((r) => r.initialEval!.accuracy)))} to ${pct(mean(g.runs.map((r) => r.testAccuracy)))}`);
  if (falls.length) {
    sentences.push(`The mean training cost went ${falls.join(', ')}${u !== null ? ` (a uniform output costs ${u.toFixed(2)})` : ''}${rises.length ? `; the mean test accuracy before training and after it: ${rises.join(', ')}` : ''}.`);
  }
  return sentences.join(' ');
}

export function writeReport(o: ReportOptions): string {
  mkdirSync(o.dir, { recursive: true });
  const costName = o.costName ?? 'CrossEntropyBinary', K = o.nclass ?? 2;
  const groups = groupRuns(o.runs);
  const nSeeds = new Set(o.runs.map((r) => r.seed)).size;
  const over = nSeeds > 1 ? `mean over ${nSeeds} seeds, band: min–max` : 'one seed';
  const series = (value: (h: RunRecord['history'][number]) => number | undefined, of = groups): Series[] => of.map(({ experiment, runs }) => {
    const agg = acrossSeeds(runs, value);
    const s: Series = { name: experiment, color: COLORS[experiment], dashed: DASHED[experiment], points: agg.map((a): [number, number] => [a.epoch, a.mean]) };
    if (nSeeds > 1) s.band = agg.map((a): [number, number, number] => [a.epoch, a.min, a.max]);
    return s;
  }).filter((s) => s.points.length > 0);
  const u = uniformCost(costName, K);
  const notes = nSeeds > 1 ? [`lines: mean of ${nSeeds} seeds`, 'bands: min–max'] : [];
  const costSeries = series((h) => h.trainCost);
  const costRange = Math.max(...costSeries.flatMap((c) => c.points.map(([, y]) => y)), 1e-9);
  writeFileAtomicSync(join(o.dir, 'loss.svg'), lineChart({
    title: `Training cost per epoch (${over})`, xLabel: 'epoch', yLabel: `training cost (${costName})`, series: costSeries,
    references: u !== null ? [{ y: u, label: `uniform output ${u.toFixed(2)}` }] : [], notes: [...notes, ...overlapNotes(costSeries, costRange)],
  }));
  // The test curves start where each run was evaluated before training (initialEval).
  const withStart = groups.map((g) => ({ ...g, runs: g.runs.map((r): RunRecord => r.initialEval
    ? { ...r, history: [{ epoch: r.initialEval.epoch, trainCost: NaN, trainAccuracy: NaN, seconds: 0, evalAccuracy: r.initialEval.accuracy, evalLoss: r.initialEval.loss }, ...r.history] }
    : r) }));
  const testSeries = series((h) => h.evalAccuracy, withStart);
  const chance = { y: 1 / K, label: `chance ${pct(1 / K)}` };
  const accuracyChart = testSeries.length
    ? { file: 'accuracy.svg', alt: 'test accuracy', chart: lineChart({ title: `Test accuracy per epoch (${over})`, xLabel: 'epoch', yLabel: 'test accuracy', series: testSeries, yMin: 0, yMax: 1, references: [chance], notes: [...notes, ...overlapNotes(testSeries, 1)] }) }
    : { file: 'accuracy.svg', alt: 'training accuracy', chart: lineChart({ title: `Accuracy on the training minibatches per epoch (${over}; no test evaluation ran)`, xLabel: 'epoch', yLabel: 'training accuracy', series: series((h) => h.trainAccuracy), yMin: 0, yMax: 1, references: [chance], notes }) };
  writeFileAtomicSync(join(o.dir, accuracyChart.file), accuracyChart.chart);
  const images = ['![training cost](loss.svg)', `![${accuracyChart.alt}](${accuracyChart.file})`];
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
    summarize(o.runs, costName, K),
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
