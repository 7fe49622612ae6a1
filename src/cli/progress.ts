// neon's progress bar (ProgressBarCallback): one line per epoch,
//   Epoch 1   [Train |████████            |   12/63  batches, 0.69 cost (uniform 1.39), 3.21s, 120 img/s, ETA 12s]
// redrawn at most every 0.1 s on a terminal; elsewhere (pipes, CI) printed once per epoch.
// Images per second and the epoch's ETA as tqdm and Keras show them; at epoch end the
// training accuracy of the epoch (when the runner computed it), the time left for the
// remaining epochs and that epoch's evaluation results are appended.
import type { Callback } from '../models/callbacks.js';
import { TrainCostCallback } from '../models/callbacks.js';
import type { Model } from '../models/model.js';
import type { EpochRecord } from '../transfer/experiment.js';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Per-epoch records (filled by the experiment runner before this callback runs). */
  history?: EpochRecord[];
  costName?: string;
  /** Prefix for every line, e.g. the experiment name. */
  label?: string;
  /** The cost of a uniform output (report.ts uniformCost), shown after the cost: where chance is. */
  uniformCost?: number | null;
  /** Epochs this run trains to (fit's numEpochs): the end-of-epoch line gives the time left for the others. */
  numEpochs?: number;
  /** Now, in ms (tests). */
  now?: () => number;
}

/** Seconds as 12s, 3m05s or 1h02m. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A rate with 3 significant digits at most: 1234 → 1234, 56.78 → 56.8, 0.4321 → 0.432. */
function rate(v: number): string {
  return v >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

export class ProgressBarCallback implements Callback {
  private readonly smooth = new TrainCostCallback(10);
  private epochStart = 0;
  private lastDraw = 0;
  private nbatches = 0;
  /** Images trained on this epoch (a wrapped last batch's duplicates excluded). */
  private images = 0;
  /** Seconds of every epoch of this run so far, for the time left. */
  private readonly epochSeconds: number[] = [];
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly nbatchesOf: () => number, private readonly opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stdout;
    this.tty = Boolean(this.stream.isTTY);
    this.now = opts.now ?? Date.now;
  }

  onEpochBegin(): void {
    this.epochStart = this.now();
    this.lastDraw = 0;
    this.images = 0;
    this.nbatches = this.nbatchesOf();
  }

  private line(epoch: number, done: number): string {
    const elapsed = (this.now() - this.epochStart) / 1000;
    const width = 20;
    const filled = this.nbatches ? Math.round((width * done) / this.nbatches) : width;
    const bar = '█'.repeat(filled) + ' '.repeat(width - filled);
    const speed = elapsed > 0 && this.images > 0 ? `, ${rate(this.images / elapsed)} img/s` : '';
    const eta = done > 0 && done < this.nbatches ? `, ETA ${duration((elapsed / done) * (this.nbatches - done))}` : '';
    const label = this.opts.label ? `${this.opts.label} ` : '';
    return `${label}Epoch ${String(epoch + 1).padEnd(3)} [Train |${bar}| ${String(done).padStart(4)}/${this.nbatches} batches, ${this.smooth.smoothed.toFixed(2)} cost${this.opts.uniformCost != null ? ` (uniform ${this.opts.uniformCost.toFixed(2)})` : ''}, ${elapsed.toFixed(2)}s${speed}${eta}]`;
  }

  onMinibatchEnd(m: Model, epoch: number, mb: number, cost: number, batch?: { valid: number }): void {
    this.smooth.onMinibatchEnd(m, epoch, mb, cost);
    if (batch) this.images += batch.valid;
    if (!this.tty) return;
    const now = this.now();
    if (now - this.lastDraw < 100 && mb + 1 < this.nbatches) return;
    this.lastDraw = now;
    this.stream.write(`\r${this.line(epoch, mb + 1)}\x1b[K`);
  }

  onEpochEnd(_m: Model, epoch: number): void {
    const rec = this.opts.history?.find((r) => r.epoch === epoch + 1);
    this.epochSeconds.push((this.now() - this.epochStart) / 1000);
    let tail = '';
    if (rec && Number.isFinite(rec.trainAccuracy)) tail += ` [train accuracy ${(100 * rec.trainAccuracy).toFixed(1)}%]`;
    if (rec?.evalLoss !== undefined) {
      tail += ` [${this.opts.costName ?? 'Cost'} Loss ${rec.evalLoss.toFixed(2)}, Accuracy ${(100 * rec.evalAccuracy!).toFixed(1)}%]`;
    }
    const left = this.opts.numEpochs !== undefined ? this.opts.numEpochs - (epoch + 1) : 0;
    if (left > 0) {
      const mean = this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length;
      tail += ` [${left} epoch${left === 1 ? '' : 's'} left, ETA ${duration(mean * left)}]`;
    }
    this.stream.write(`${this.tty ? '\r' : ''}${this.line(epoch, this.nbatches)}${tail}${this.tty ? '\x1b[K' : ''}\n`);
  }
}

/**
 * One warning when the training cost has not moved away from a uniform output's after
 * `epochs` epochs of this run (each within 2% of it): the model is not learning, and a
 * learning rate to try is suggested (×10, or ÷10 above neon's default 0.001).
 */
export class UniformCostWarning implements Callback {
  private seen = 0;
  private stuck = 0;
  private done = false;

  constructor(
    private readonly history: EpochRecord[],
    private readonly uniform: number,
    private readonly lr: number,
    private readonly warn: (line: string) => void,
    private readonly epochs = 3,
  ) {}

  onEpochEnd(_m: Model, epoch: number): void {
    if (this.done) return;
    const rec = this.history.find((r) => r.epoch === epoch + 1);
    if (!rec || !Number.isFinite(rec.trainCost)) return;
    this.seen++;
    if (Math.abs(rec.trainCost - this.uniform) <= 0.02 * this.uniform) this.stuck++;
    if (this.seen < this.epochs) return;
    this.done = true;
    if (this.stuck < this.epochs) return;
    const NEON_LR = 0.001;
    const suggest = this.lr === 0 ? NEON_LR : this.lr > NEON_LR ? this.lr / 10 : this.lr * 10;
    this.warn(`the training cost ${rec.trainCost.toFixed(2)} has not moved from a uniform output's ${this.uniform.toFixed(2)} in ${this.epochs} epochs: the model is not learning; try --lr ${Number(suggest.toPrecision(3))} (this run: ${this.lr}; neon's default ${NEON_LR}) or more epochs`);
  }
}

export interface CountProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when the stream is not a terminal. Default 5. */
  lineEvery?: number;
  /** Now, in ms (tests). */
  now?: () => number;
}

/**
 * Progress of a long count ("prepare: 1200/5000 images", "test: 300/2000 images"): on a
 * terminal a bar redrawn in place at most every 0.1 s; elsewhere (pipes, CI, log files) a
 * plain line every few seconds, and always one at the end, never carriage returns.
 */
export class CountProgress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = 0;
  private lastLine: number;
  private finished = false;
  private readonly lineEvery: number;

  constructor(private readonly label: string, private readonly unit: string, opts: CountProgressOptions = {}) {
    this.stream = opts.stream ?? process.stdout;
    this.tty = Boolean(this.stream.isTTY);
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.lastLine = this.start;
    this.lineEvery = (opts.lineEvery ?? 5) * 1000;
  }

  private text(done: number, total: number): string {
    return `${this.label}: ${done}/${total} ${this.unit} (${((this.now() - this.start) / 1000).toFixed(1)}s${this.note ? `, ${this.note}` : ''})`;
  }

  /** Shown after the elapsed time (a rate, an ETA) until the next update. */
  private note = '';

  update(done: number, total: number, note?: string): void {
    this.note = note ?? '';
    if (this.finished) return;
    const now = this.now();
    if (done >= total) {
      this.finished = true;
      this.stream.write(this.tty ? `\r${this.bar(done, total)}\x1b[K\n` : `${this.text(done, total)}\n`);
      return;
    }
    if (this.tty) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.bar(done, total)}\x1b[K`);
    } else if (now - this.lastLine >= this.lineEvery) {
      this.lastLine = now;
      this.stream.write(`${this.text(done, total)}\n`);
    }
  }

  private bar(done: number, total: number): string {
    const w = 30, filled = Math.round((w * done) / Math.max(total, 1));
    return `${this.label}: [${'█'.repeat(filled)}${' '.repeat(w - filled)}] ${done}/${total} ${this.unit} (${((this.now() - this.start) / 1000).toFixed(1)}s${this.note ? `, ${this.note}` : ''})`;
  }
}
