// neon's HDF5Iterator and HDF5IteratorOneHot (neon/data/hdf5iterator.py) over h5wasm. Rows are read
// a batch at a time with dataset slices; only `output` of the one-hot iterator (class
// indices, one number per example) and `mean` are read whole, as neon does.
import { damagedH5, h5wasm, openH5, type H5Dataset, type H5File } from '../formats/h5.js';
import { TlError } from '../util/errors.js';
import { countNonFinite, describeNonFinite } from '../util/finite.js';
import {
  EpochPlanner,
  PlannedIterator,
  checkLabels,
  normalizeLshape,
  oneHotRows,
  subtractMean,
  type Batch,
  type BatchOptions,
  type IteratorOptions,
  type PlannedBatch,
} from './iterator.js';

/** Options of {@link HDF5IteratorOneHot.open}: batch size, shuffling, and whether the file's mean is subtracted. */
export interface HDF5IteratorOptions extends IteratorOptions {
  /** Subtract the file's `mean` (default true); false gives the stored pixels (other preprocessing, src/data/preprocess.ts). */
  subtractMean?: boolean;
}

/** openH5 for reading, as the data layer names its files. */
function openForReading(path: string): Promise<H5File> {
  return openH5(path, 'r', 'data file');
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

type NumArray = ArrayLike<number>;

/** A numeric typed array from h5wasm as plain numbers (64-bit integers come as BigInt arrays). */
function asNumbers(v: unknown): NumArray {
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float64Array.from(v, (b) => Number(b));
  if (ArrayBuffer.isView(v)) return v as unknown as NumArray;
  if (typeof v === 'number') return [v];
  if (typeof v === 'bigint') return [Number(v)];
  if (Array.isArray(v)) return v.flat(Infinity).map((e) => Number(e));
  return [];
}

function isNumericDataset(ds: H5Dataset): boolean {
  const m = ds.metadata;
  return (m.type === H5T_INTEGER && [1, 2, 4, 8].includes(m.size)) || (m.type === H5T_FLOAT && (m.size === 4 || m.size === 8));
}

function getDataset(f: H5File, name: string, path: string, hint: string): H5Dataset | null {
  let e: unknown;
  try {
    e = f.get(name);
  } catch (err) {
    throw new TlError(`${path}: cannot read '${name}' (${(err as Error).message}); the file may be truncated or damaged`);
  }
  if (e === null || e === undefined) return null;
  if (!(e instanceof h5wasm.Dataset)) throw new TlError(`${path}: '${name}' is not a dataset; ${hint}`);
  return e;
}

function attrValue(ds: H5Dataset, name: string): unknown {
  const attrs = ds.attrs;
  if (!(name in attrs)) return undefined;
  return attrs[name]!.value;
}

/**
 * neon's HDF5Iterator: `input` (N, F) any numeric dtype with attribute `lshape`, optional
 * top-level `mean` (F or C values, subtracted), optional `output` (N, M) targets copied
 * as they are. Open with `HDF5Iterator.open(path, options)`.
 */
export class HDF5Iterator extends PlannedIterator {
  readonly ndata: number;
  readonly lshape: readonly [number, number, number];
  readonly bsz: number;
  /** Target width: `output`'s second dimension (1 for a 1-D output), 0 without `output`. */
  readonly nclass: number;
  protected readonly planner: EpochPlanner;
  protected readonly input: H5Dataset;
  protected readonly output: H5Dataset | null;
  protected readonly mean: Float32Array | null;
  /** `input` stores floats, which may hold NaN or ±Inf (integer pixels cannot): checked on every read. */
  private readonly floatInput: boolean;
  private closed = false;

  /** Use the static `open`. */
  protected constructor(
    readonly path: string,
    protected readonly file: H5File,
    opts: HDF5IteratorOptions,
    oneHot: boolean,
  ) {
    super();
    const hint = "neon's format needs dataset 'input' (N, C*H*W) with attribute 'lshape' = (C, H, W)";
    const input = getDataset(file, 'input', path, hint);
    if (!input) throw new TlError(`${path}: no dataset 'input'; ${hint}`);
    const shape = input.shape;
    if (!shape || shape.length !== 2) {
      throw new TlError(`${path}: 'input' has shape (${shape?.join(', ') ?? 'scalar'}); expected 2-D (N, C*H*W), one row per example`);
    }
    if (!isNumericDataset(input)) throw new TlError(`${path}: 'input' has dtype ${JSON.stringify(input.dtype)}; expected a numeric dtype`);
    const [N, F] = shape as [number, number];
    const ls = attrValue(input, 'lshape');
    if (ls === undefined) throw new TlError(`${path}: dataset 'input' has no attribute 'lshape'; set it to (C, H, W)`);
    this.lshape = normalizeLshape(asNumbers(ls), F, `${path}`);
    this.input = input;
    this.floatInput = input.metadata.type === H5T_FLOAT;
    this.ndata = N;
    const bsz = opts.bsz ?? 32;
    if (N < bsz) throw new TlError(`${path}: ${N} examples, fewer than the batch size ${bsz}; use a smaller batch size`);
    this.bsz = bsz;

    // mean: a top-level dataset with F (full image) or C (per channel) values
    const meanDs = getDataset(file, 'mean', path, "'mean' must be a top-level dataset of C*H*W or C values");
    if (meanDs) {
      const mv = asNumbers(this.read(meanDs, 'mean', null));
      if (mv.length !== F && mv.length !== this.lshape[0]) {
        throw new TlError(`${path}: 'mean' has ${mv.length} values; expected ${F} (full mean image) or ${this.lshape[0]} (one per channel)`);
      }
      const bad = countNonFinite(mv);
      if (bad) throw new TlError(`${path}: 'mean' has ${describeNonFinite(bad)} (first at value ${bad.first} of ${mv.length}); the mean must be finite: re-create the file with 'tl-scratch prepare'`);
      this.mean = opts.subtractMean === false ? null : Float32Array.from(mv);
    } else {
      this.mean = null;
    }

    const outHint = "neon's format has dataset 'output' with class indices (N,) or (N, 1) and attribute 'nclass'";
    const out = getDataset(file, 'output', path, outHint);
    if (out) {
      if (!isNumericDataset(out)) throw new TlError(`${path}: 'output' has dtype ${JSON.stringify(out.dtype)}; expected a numeric dtype`);
      const os = out.shape ?? [];
      if (os.length < 1 || os.length > 2 || os[0] !== N) {
        throw new TlError(`${path}: 'output' has shape (${os.join(', ')}) but 'input' has ${N} rows; expected (${N}, M), one row per example`);
      }
    } else if (oneHot) {
      throw new TlError(`${path}: no dataset 'output'; ${outHint}`);
    }
    this.output = out;
    this.nclass = out ? (out.shape![1] ?? 1) : 0;
    this.planner = new EpochPlanner(N, bsz, opts.shuffle ?? false, opts.rng, opts.seed ?? 0);
  }

  /** Open `path` (neon's format, see the class doc); TlError naming the file when anything is missing or wrong. */
  static async open(path: string, opts: HDF5IteratorOptions = {}): Promise<HDF5Iterator> {
    const f = await openForReading(path);
    try {
      return damagedH5('data file', path, () => new HDF5Iterator(path, f, opts, false));
    } catch (e) {
      f.close();
      throw e;
    }
  }

  /** Close the HDF5 file. */
  override close(): void {
    if (!this.closed) {
      this.closed = true;
      this.file.close();
    }
  }

  /** Read rows [a, b) (or everything with range null), TlError on a read failure. */
  protected read(ds: H5Dataset, name: string, range: [number, number] | null): unknown {
    if (this.closed) throw new TlError(`${this.path}: the iterator was closed`);
    try {
      return range ? ds.slice([range]) : ds.value;
    } catch (e) {
      const what = range ? `rows ${range[0]}..${range[1] - 1} of '${name}'` : `'${name}'`;
      throw new TlError(`${this.path}: cannot read ${what} (${(e as Error).message}); the file may be truncated or damaged`);
    }
  }

  /** Copy the given rows of a 2-D (or 1-D) dataset into a float32 [rows.length, width] buffer. */
  protected gatherRows(ds: H5Dataset, name: string, rows: Int32Array, width: number): Float32Array {
    const out = new Float32Array(rows.length * width);
    let k = 0;
    while (k < rows.length) {
      // one slice per run of consecutive rows: two slices per batch in file order
      let e = k + 1;
      while (e < rows.length && rows[e] === rows[e - 1]! + 1) e++;
      const data = asNumbers(this.read(ds, name, [rows[k]!, rows[k]! + (e - k)]));
      if (data.length !== (e - k) * width) {
        throw new TlError(`${this.path}: read ${data.length} values for ${e - k} rows of '${name}', expected ${(e - k) * width}`);
      }
      out.set(data, k * width);
      k = e;
    }
    if (ds === this.input && this.floatInput) this.checkFinite(out, rows, width);
    return out;
  }

  /**
   * TlError when rows just read from `input` hold NaN or ±Inf: the first such example, and
   * how many examples and values of the whole file are affected (counted only on error).
   */
  private checkFinite(x: Float32Array, rows: Int32Array, width: number): void {
    const first = countNonFinite(x);
    if (!first) return;
    const i = Math.floor(first.first / width);
    const inRow = countNonFinite(x, i * width, (i + 1) * width)!;
    let examples = 0, values = 0;
    const step = Math.max(1, Math.floor((4 << 20) / width));
    for (let a = 0; a < this.ndata; a += step) {
      const b = Math.min(this.ndata, a + step);
      const data = asNumbers(this.read(this.input, 'input', [a, b]));
      for (let r = 0; r < b - a; r++) {
        const c = countNonFinite(data, r * width, (r + 1) * width);
        if (c) (examples++, (values += c.count));
      }
    }
    throw new TlError(
      `${this.path}: example ${rows[i]} of 'input' has ${describeNonFinite(inRow)} (first at value ${inRow.first - i * width} of ${width}); ` +
        `${examples} of the ${this.ndata} examples hold non-finite values (${values} in all); the data must be finite numbers: re-create the file with 'tl-scratch prepare', or remove those examples`,
    );
  }

  /** Targets of the given rows. */
  protected targets(rows: Int32Array): Float32Array {
    return this.output ? this.gatherRows(this.output, 'output', rows, this.nclass) : new Float32Array(0);
  }

  /** Inputs of the given rows, [rows.length, C·H·W], mean subtracted (e.g. to take a labelled subset into memory). */
  readExamples(rows: Int32Array): Float32Array {
    const x = this.gatherRows(this.input, 'input', rows, this.lshape[0] * this.lshape[1] * this.lshape[2]);
    if (this.mean) subtractMean(x, this.mean, rows.length, this.lshape);
    return x;
  }

  /** Whether the file's mean is subtracted from the inputs (it has one and subtractMean was not false). */
  get subtractsMean(): boolean {
    return this.mean !== null;
  }

  /**
   * The plan of the next epoch (which rows each batch holds), as `batches` would fetch it;
   * drawing it moves the epoch position as `batches` does. For readers that fetch the
   * inputs elsewhere (src/data/prefetch.ts) with readExamples.
   */
  planEpoch(): Generator<PlannedBatch, void, undefined> {
    return this.planner.epoch();
  }

  /** Targets of the given rows, [rows.length, nclass] (empty without targets). */
  targetsOf(rows: Int32Array): Float32Array {
    return this.targets(rows);
  }

  /** One epoch of batches (see DataIterator). */
  *batches(opts: BatchOptions = {}): Generator<Batch, void, undefined> {
    const F = this.lshape[0] * this.lshape[1] * this.lshape[2];
    for (const { rows, valid } of this.planner.epoch()) {
      const need = opts.needInputs?.(rows) ?? true;
      const x = need ? this.gatherRows(this.input, 'input', rows, F) : new Float32Array(0);
      if (need && this.mean) subtractMean(x, this.mean, this.bsz, this.lshape);
      yield {
        x,
        xShape: [this.bsz, ...this.lshape],
        t: this.targets(rows),
        tShape: [this.bsz, this.nclass],
        valid,
        rows,
      };
    }
  }
}

/**
 * neon's HDF5IteratorOneHot: as HDF5Iterator, but `output` holds class indices (read
 * whole, truncated to integers as numpy's astype(int32)) and `output.attrs.nclass` gives the
 * one-hot width. Labels outside [0, nclass) are an error here (neon would misbehave later).
 */
export class HDF5IteratorOneHot extends HDF5Iterator {
  override readonly nclass: number;
  /** Class index of every example. */
  readonly labels: Int32Array;

  protected constructor(path: string, file: H5File, opts: HDF5IteratorOptions) {
    super(path, file, opts, true);
    const out = this.output!;
    const nc = attrValue(out, 'nclass');
    if (nc === undefined) throw new TlError(`${path}: dataset 'output' has no attribute 'nclass'; set it to the number of classes`);
    const ncv = asNumbers(nc);
    if (ncv.length !== 1 || !Number.isInteger(ncv[0]) || ncv[0]! < 1) {
      throw new TlError(`${path}: attribute 'nclass' of 'output' must be one positive integer, got ${String(nc)}`);
    }
    this.nclass = ncv[0]!;
    const raw = asNumbers(this.read(out, 'output', null));
    if (raw.length !== this.ndata) {
      throw new TlError(
        `${path}: 'output' has ${raw.length} values for ${this.ndata} examples; the one-hot iterator needs class indices, ` +
          `shape (${this.ndata},) or (${this.ndata}, 1), not one-hot rows`,
      );
    }
    const labels = new Int32Array(this.ndata);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (!Number.isFinite(v)) throw new TlError(`${path}: label ${v} of example ${i} in 'output' is not a number`);
      labels[i] = Math.trunc(v);
    }
    checkLabels(labels, this.nclass, `${path}: 'output'`);
    this.labels = labels;
  }

  static override async open(path: string, opts: HDF5IteratorOptions = {}): Promise<HDF5IteratorOneHot> {
    const f = await openForReading(path);
    try {
      return damagedH5('data file', path, () => new HDF5IteratorOneHot(path, f, opts));
    } catch (e) {
      f.close();
      throw e;
    }
  }

  protected override targets(rows: Int32Array): Float32Array {
    return oneHotRows(this.labels, rows, this.nclass);
  }
}
