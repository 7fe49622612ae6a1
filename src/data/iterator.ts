// The iterator interface shared by every data source, and neon's batching rule
// (neon/data/hdf5iterator.py) in one place: EpochPlanner decides which rows make up each
// batch; the iterators only fetch those rows.
import { TlError } from '../util/errors.js';
import { Generator as RandomGenerator } from '../tensor/random.js';

/** A uniform generator on [0, 1). The engine's global generator fits. */
export type Rng = () => number;

/** One minibatch, batch axis first (unlike neon's CHWN device buffers). */
export interface Batch {
  /** Inputs, [bsz, C, H, W] row-major, float32, mean already subtracted. */
  x: Float32Array;
  xShape: [number, number, number, number];
  /** Targets, [bsz, nclass] (one-hot for class-index data). Empty when the data has no targets. */
  t: Float32Array;
  tShape: [number, number];
  /**
   * How many leading rows are real examples of this epoch; rows [valid, bsz) are the
   * wrap-around duplicates that fill the last batch (trained on, excluded from eval).
   */
  valid: number;
  /**
   * The example index (file row) of each of the bsz rows: which examples the batch holds
   * (the training loop's feature cache is keyed by it).
   */
  rows: Int32Array;
}

/** Options of one epoch of batches. */
export interface BatchOptions {
  /**
   * Called with each batch's rows before its inputs are read; when it returns false the
   * batch comes with `x` empty (length 0, xShape unchanged) and only targets, rows and
   * valid are filled (the training loop has those examples' features cached). Iterators
   * may ignore it and always read the inputs.
   */
  needInputs?: (rows: Int32Array) => boolean;
}

/**
 * What every iterator offers. `batches()` runs one epoch; the next call continues with
 * neon's wrap offset unless `reset()` was called in between.
 */
export interface DataIterator {
  /** Number of examples. */
  readonly ndata: number;
  /** Batch size. */
  readonly bsz: number;
  /** Shape of one example, (C, H, W). */
  readonly lshape: readonly [number, number, number];
  /** Width of the targets: the number of classes for one-hot targets. */
  readonly nclass: number;
  /** Batches of the next epoch: ceil((ndata - start) / bsz); may change between epochs. */
  readonly nbatches: number;
  /** First example index of the next epoch (neon's `start`). */
  readonly start: number;
  /** One epoch of batches. */
  batches(opts?: BatchOptions): Generator<Batch, void, undefined>;
  /** Next epoch starts at example 0 (neon's reset, done before eval and get_outputs). */
  reset(): void;
  /** Position as after `epochs` epochs from a reset (resume); file order only. */
  skipEpochs(epochs: number): void;
  /** Release files; a no-op for in-memory data. */
  close(): void;
}

/**
 * An iterator that changes how batches come out of another and leaves everything else
 * (sizes, epochs, reset, resume, close) to it: a subclass writes batches() only.
 */
export abstract class WrappedIterator<Inner extends DataIterator = DataIterator> implements DataIterator {
  constructor(readonly inner: Inner) {}
  get ndata() { return this.inner.ndata; }
  get bsz() { return this.inner.bsz; }
  get lshape() { return this.inner.lshape; }
  get nclass() { return this.inner.nclass; }
  get nbatches() { return this.inner.nbatches; }
  get start() { return this.inner.start; }
  abstract batches(opts?: BatchOptions): Generator<Batch, void, undefined>;
  reset(): void { this.inner.reset(); }
  skipEpochs(epochs: number): void { this.inner.skipEpochs(epochs); }
  close(): void { this.inner.close(); }
}

/**
 * Uniform numbers in [0, 1) from the engine's generator (xoshiro128**, src/tensor/random.ts),
 * in a stream of its own: shuffling and subset draws are reproducible from their seed and
 * do not move the global `rng` that initializers and dropout draw from.
 */
export function seededRng(seed = 0): Rng {
  const g = new RandomGenerator(seed);
  return () => g.random();
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates), drawn from `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}

/** One planned batch: the example index of each row and how many rows are real. */
export interface PlannedBatch {
  rows: Int32Array;
  valid: number;
}

export interface PlannerOptions {
  /** Shuffle the example order every epoch (default false: file order, as neon). */
  shuffle?: boolean;
  /** Generator for shuffling; default seededRng(seed). */
  rng?: Rng;
  /** Seed of the default generator (default 0). */
  seed?: number;
}

/**
 * neon's batching (hdf5iterator.py `__iter__`):
 *   for i1 in range(start, ndata, bsz): i2 = min(i1 + bsz, ndata); b = i2 - i1;
 *   if i2 == ndata: start = bsz - b;   rows [i1, i2) then rows [0, bsz - b) (wrap-around)
 * so the next epoch skips exactly the examples the wrapped batch already used, and
 * `start` returns to 0 when ndata % bsz == 0. `reset()` sets start = 0.
 *
 * With `shuffle`, "row r" above means position r of an epoch's order, a permutation drawn
 * per epoch. The order of epoch e+1 is drawn when epoch e reaches its last batch, and the
 * wrap-around rows are the first rows of that next order; the next epoch then skips them,
 * exactly as neon's file-order epochs skip the rows 0..bsz-b-1 they wrapped onto. Without
 * shuffle the order is the identity and this is neon's rule unchanged.
 */
export class EpochPlanner {
  private _start = 0;
  private order: Int32Array | null = null;
  private readonly rng: Rng;

  constructor(readonly ndata: number, readonly bsz: number, readonly shuffle = false, rng?: Rng, seed = 0) {
    if (!Number.isInteger(bsz) || bsz < 1) throw new TlError(`batch size must be a positive integer, got ${bsz}`);
    this.rng = rng ?? seededRng(seed);
  }

  get start(): number {
    return this._start;
  }

  get nbatches(): number {
    return Math.ceil((this.ndata - this._start) / this.bsz);
  }

  reset(): void {
    this._start = 0;
  }

  /**
   * Position the planner where `epochs` file-order epochs from a reset would leave it (for
   * resuming from a checkpoint): start' = (bsz − (ndata − start) mod bsz) mod bsz per epoch.
   */
  skipEpochs(epochs: number): void {
    if (this.shuffle) throw new TlError('cannot skip epochs of a shuffled iterator without replaying it');
    let s = 0;
    for (let e = 0; e < epochs; e++) s = (this.bsz - ((this.ndata - s) % this.bsz)) % this.bsz;
    this._start = s;
  }

  private drawOrder(): Int32Array | null {
    return this.shuffle ? permutation(this.ndata, this.rng) : null;
  }

  /** The batches of one epoch; `start` (and the next order) change when the last one is reached. */
  *epoch(): Generator<PlannedBatch, void, undefined> {
    const { ndata, bsz } = this;
    if (this.shuffle && this.order === null) this.order = this.drawOrder();
    const order = this.order;
    const at = (o: Int32Array | null, p: number): number => (o === null ? p : o[p]!);
    for (let i1 = this._start; i1 < ndata; i1 += bsz) {
      const i2 = Math.min(i1 + bsz, ndata);
      const b = i2 - i1;
      let next = order;
      if (i2 === ndata) {
        this._start = bsz - b;
        next = this.drawOrder();
        this.order = next;
      }
      const rows = new Int32Array(bsz);
      for (let k = 0; k < b; k++) rows[k] = at(order, i1 + k);
      for (let k = b; k < bsz; k++) rows[k] = at(next, k - b);
      yield { rows, valid: b };
    }
  }
}

/** Check class indices against [0, nclass); `where` names the data in the message. */
export function checkLabels(labels: ArrayLike<number>, nclass: number, where: string): void {
  if (!Number.isInteger(nclass) || nclass < 1) throw new TlError(`${where}: nclass must be a positive integer, got ${nclass}`);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (!(v >= 0 && v < nclass) || !Number.isInteger(v)) {
      throw new TlError(
        `${where}: label ${v} of example ${i} is outside [0, ${nclass}); labels must be class indices below nclass`,
      );
    }
  }
}

/** Write the one-hot rows of `labels[rows[k]]` into a [rows.length, nclass] buffer. */
export function oneHotRows(labels: ArrayLike<number>, rows: Int32Array, nclass: number): Float32Array {
  const t = new Float32Array(rows.length * nclass);
  for (let k = 0; k < rows.length; k++) t[k * nclass + labels[rows[k]!]!] = 1;
  return t;
}

/** Mean subtraction in place over a [n, C, H*W] buffer: full (C*H*W values) or per channel (C values). */
export function subtractMean(x: Float32Array, mean: Float32Array, n: number, lshape: readonly [number, number, number]): void {
  const [C, H, W] = lshape;
  const F = C * H * W;
  if (mean.length === F) {
    for (let r = 0; r < n; r++) {
      const o = r * F;
      for (let f = 0; f < F; f++) x[o + f] = x[o + f]! - mean[f]!;
    }
  } else {
    const HW = H * W;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < C; c++) {
        const m = mean[c]!;
        const o = r * F + c * HW;
        for (let p = 0; p < HW; p++) x[o + p] = x[o + p]! - m;
      }
    }
  }
}

/**
 * lshape as read from a file or given by a caller, normalised to (C, H, W):
 * (F) → (F, 1, 1), (C, H) → (C, H, 1). `where` names the data in the message.
 */
export function normalizeLshape(raw: ArrayLike<number | bigint>, rowLength: number, where: string): [number, number, number] {
  const dims = Array.from(raw, (v) => Number(v));
  if (dims.length < 1 || dims.length > 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new TlError(`${where}: lshape must be 1 to 3 positive integers (C, H, W), got (${dims.join(', ')})`);
  }
  while (dims.length < 3) dims.push(1);
  const [C, H, W] = dims as [number, number, number];
  if (C * H * W !== rowLength) {
    throw new TlError(
      `${where}: lshape (${C}, ${H}, ${W}) has ${C * H * W} values but each row of input has ${rowLength}; ` +
        'lshape must be (C, H, W) with C*H*W equal to the row length',
    );
  }
  return [C, H, W];
}

/**
 * What every iterator shares: the epoch position lives in an EpochPlanner, so nbatches,
 * start, reset and skipEpochs are the planner's; subclasses only fetch the planned rows.
 */
export abstract class PlannedIterator implements DataIterator {
  abstract readonly ndata: number;
  abstract readonly bsz: number;
  abstract readonly lshape: readonly [number, number, number];
  abstract readonly nclass: number;
  protected abstract readonly planner: EpochPlanner;

  get nbatches(): number {
    return this.planner.nbatches;
  }

  get start(): number {
    return this.planner.start;
  }

  skipEpochs(epochs: number): void {
    this.planner.skipEpochs(epochs);
  }

  reset(): void {
    this.planner.reset();
  }

  /** Nothing to release (in-memory data). */
  close(): void {}

  /** One epoch of batches (see DataIterator). */
  abstract batches(opts?: BatchOptions): Generator<Batch, void, undefined>;
}

/** Options common to every iterator. */
export interface IteratorOptions extends PlannerOptions {
  /** Batch size (neon's be.bsz); default 32. */
  bsz?: number;
}

export interface ArrayIteratorOptions extends IteratorOptions {
  /** Examples, [N, C*H*W] channel-major rows. */
  x: Float32Array;
  /** Shape of one example, (C, H, W) (or (F) / (C, H), padded with 1s). */
  lshape: readonly number[];
  /** Class indices, one per example (optional: no targets without it). */
  y?: ArrayLike<number>;
  /** Number of classes; required with `y`. Targets are one-hot [bsz, nclass]. */
  nclass?: number;
  /** Optional mean to subtract: C*H*W values or C values. */
  mean?: Float32Array;
  /** Names the data in error messages (default "array data"). */
  name?: string;
}

/** neon's ArrayIterator (one-hot targets) over arrays in memory, with the same batching. */
export class ArrayIterator extends PlannedIterator {
  readonly ndata: number;
  readonly bsz: number;
  readonly lshape: readonly [number, number, number];
  readonly nclass: number;
  protected readonly planner: EpochPlanner;
  private readonly x: Float32Array;
  private readonly y: ArrayLike<number> | null;
  private readonly mean: Float32Array | null;

  constructor(opts: ArrayIteratorOptions) {
    super();
    const where = opts.name ?? 'array data';
    const bsz = opts.bsz ?? 32;
    const F = opts.lshape.reduce((a, b) => a * b, 1);
    this.lshape = normalizeLshape(opts.lshape, F, where);
    if (F === 0 || opts.x.length % F !== 0) {
      throw new TlError(`${where}: x has ${opts.x.length} values, not a multiple of the example size ${F}`);
    }
    this.ndata = opts.x.length / F;
    if (this.ndata < bsz) {
      throw new TlError(`${where}: ${this.ndata} examples, fewer than the batch size ${bsz}; use a smaller batch size`);
    }
    this.bsz = bsz;
    this.x = opts.x;
    if (opts.y !== undefined) {
      if (opts.nclass === undefined) throw new TlError(`${where}: nclass is required with labels y`);
      if (opts.y.length !== this.ndata) {
        throw new TlError(`${where}: ${opts.y.length} labels for ${this.ndata} examples; there must be one label per example`);
      }
      checkLabels(opts.y, opts.nclass, where);
      this.y = opts.y;
      this.nclass = opts.nclass;
    } else {
      this.y = null;
      this.nclass = 0;
    }
    if (opts.mean !== undefined && opts.mean.length !== F && opts.mean.length !== this.lshape[0]) {
      throw new TlError(`${where}: mean has ${opts.mean.length} values; expected ${F} (full) or ${this.lshape[0]} (per channel)`);
    }
    this.mean = opts.mean ?? null;
    this.planner = new EpochPlanner(this.ndata, bsz, opts.shuffle ?? false, opts.rng, opts.seed ?? 0);
  }

  /** One epoch of batches (see DataIterator). */
  *batches(opts: BatchOptions = {}): Generator<Batch, void, undefined> {
    const F = this.lshape[0] * this.lshape[1] * this.lshape[2];
    for (const { rows, valid } of this.planner.epoch()) {
      const need = opts.needInputs?.(rows) ?? true;
      const x = new Float32Array(need ? this.bsz * F : 0);
      if (need) for (let k = 0; k < this.bsz; k++) x.set(this.x.subarray(rows[k]! * F, rows[k]! * F + F), k * F);
      if (need && this.mean) subtractMean(x, this.mean, this.bsz, this.lshape);
      const t = this.y ? oneHotRows(this.y, rows, this.nclass) : new Float32Array(0);
      yield {
        x,
        xShape: [this.bsz, ...this.lshape],
        t,
        tShape: [this.bsz, this.nclass],
        valid,
        rows,
      };
    }
  }
}
