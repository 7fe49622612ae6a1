// Writing neon-format HDF5 files (as neon/data/hdf5iterator.py reads them): `input` (N, C*H*W) with
// attribute `lshape`, `output` (N, 1) int32 class indices with attributes `nclass` and
// `class_names`, optional top-level `mean`. Rows are appended in chunks, so a large data
// set never has to be in memory.
import { openH5, type H5Dataset, type H5File } from '../formats/h5.js';
import { writeAtomic } from '../util/atomic.js';
import { TlError } from '../util/errors.js';

export type InputDtype = 'uint8' | 'float32';

export interface NeonH5WriterOptions {
  /** Shape of one example, (C, H, W). */
  lshape: readonly [number, number, number];
  /** Number of classes, written as `output.attrs.nclass`. */
  nclass: number;
  /** Class names, written as `output.attrs.class_names` (index = label). */
  classNames?: readonly string[];
  /** dtype of `input`; default 'uint8'. */
  dtype?: InputDtype;
  /** Channel order of the rows ('rgb', 'bgr', 'gray'), written as `input.attrs.channel_order`; omitted when unknown. */
  channelOrder?: string;
}

/** Appends examples to a new neon-format file. Call `close()` when done. */
export class NeonH5Writer {
  private n = 0;
  private readonly F: number;
  private readonly pendingX: (Uint8Array | Float32Array)[] = [];
  private pendingY: number[] = [];
  private readonly flushRows: number;

  private constructor(
    readonly path: string,
    private readonly file: H5File,
    private readonly input: H5Dataset,
    private readonly output: H5Dataset,
    readonly opts: NeonH5WriterOptions,
  ) {
    const [C, H, W] = opts.lshape;
    this.F = C * H * W;
    this.flushRows = Math.max(1, Math.floor((8 << 20) / (this.F * (opts.dtype === 'float32' ? 4 : 1))));
  }

  /** Create (truncate) the file at `path`. Prefer `writeAtomic` around it. */
  static async create(path: string, opts: NeonH5WriterOptions): Promise<NeonH5Writer> {
    const [C, H, W] = opts.lshape;
    const F = C * H * W;
    if (![C, H, W].every((d) => Number.isInteger(d) && d >= 1)) throw new TlError(`${path}: lshape must be 3 positive integers`);
    const f = await openH5(path, 'w', 'output file');
    try {
      const float = opts.dtype === 'float32';
      const chunkRows = Math.max(1, Math.min(1024, Math.floor((1 << 20) / (F * (float ? 4 : 1)))));
      const input = f.create_dataset({
        name: 'input',
        data: float ? new Float32Array(0) : new Uint8Array(0),
        shape: [0, F],
        maxshape: [null, F],
        chunks: [chunkRows, F],
        dtype: float ? '<f' : '<B',
      });
      input.create_attribute('lshape', new Int32Array([C, H, W]));
      if (opts.channelOrder) input.create_attribute('channel_order', opts.channelOrder);
      const output = f.create_dataset({
        name: 'output',
        data: new Int32Array(0),
        shape: [0, 1],
        maxshape: [null, 1],
        chunks: [4096, 1],
        dtype: '<i',
      });
      output.create_attribute('nclass', opts.nclass, null, '<i');
      if (opts.classNames && opts.classNames.length > 0) output.create_attribute('class_names', [...opts.classNames]);
      return new NeonH5Writer(path, f, input, output, opts);
    } catch (e) {
      f.close();
      throw e;
    }
  }

  /** Examples written so far. */
  get count(): number {
    return this.n + this.pendingY.length;
  }

  /** Append one example (C*H*W values, channel-major) with its class index. */
  append(row: Uint8Array | Float32Array, label: number): void {
    if (row.length !== this.F) throw new TlError(`${this.path}: example has ${row.length} values, expected ${this.F}`);
    if (!Number.isInteger(label) || label < 0 || label >= this.opts.nclass) {
      throw new TlError(`${this.path}: label ${label} outside [0, ${this.opts.nclass})`);
    }
    this.pendingX.push(row.slice());
    this.pendingY.push(label);
    if (this.pendingY.length >= this.flushRows) this.flush();
  }

  /**
   * Append k examples at once: `rows` holds k·C·H·W values (channel-major rows one after
   * another), `labels` their k class indices. Written straight through, without the copies
   * `append` makes to gather small appends into chunks.
   */
  appendRows(rows: Uint8Array | Float32Array, labels: ArrayLike<number>): void {
    const k = labels.length;
    if (rows.length !== k * this.F) throw new TlError(`${this.path}: ${rows.length} values for ${k} examples of ${this.F} values each`);
    for (let i = 0; i < k; i++) {
      const label = labels[i]!;
      if (!Number.isInteger(label) || label < 0 || label >= this.opts.nclass) throw new TlError(`${this.path}: label ${label} outside [0, ${this.opts.nclass})`);
    }
    this.flush();
    if (k === 0) return;
    const n2 = this.n + k;
    this.input.resize([n2, this.F]);
    this.input.write_slice([[this.n, n2], []], rows);
    this.output.resize([n2, 1]);
    this.output.write_slice([[this.n, n2], []], Int32Array.from(labels));
    this.n = n2;
  }

  private flush(): void {
    const k = this.pendingY.length;
    if (k === 0) return;
    const float = this.opts.dtype === 'float32';
    const buf = float ? new Float32Array(k * this.F) : new Uint8Array(k * this.F);
    this.pendingX.forEach((r, i) => buf.set(r, i * this.F));
    const n2 = this.n + k;
    this.input.resize([n2, this.F]);
    this.input.write_slice([[this.n, n2], []], buf);
    this.output.resize([n2, 1]);
    this.output.write_slice([[this.n, n2], []], Int32Array.from(this.pendingY));
    this.n = n2;
    this.pendingX.length = 0;
    this.pendingY = [];
  }

  /** Write the top-level `mean` dataset (C*H*W or C values). */
  writeMean(mean: Float32Array): void {
    const [C] = this.opts.lshape;
    if (mean.length !== this.F && mean.length !== C) throw new TlError(`${this.path}: mean must have ${this.F} or ${C} values`);
    this.file.create_dataset({ name: 'mean', data: mean, shape: [mean.length, 1], dtype: '<f' });
  }

  close(): void {
    this.flush();
    this.file.close();
  }
}

export interface NeonH5Data {
  /** [N, C*H*W] rows. */
  x: Uint8Array | Float32Array;
  lshape: readonly [number, number, number];
  labels: ArrayLike<number>;
  nclass: number;
  classNames?: readonly string[];
  mean?: Float32Array;
}

/** Write a whole in-memory data set as a neon-format file, atomically. */
export async function writeNeonH5(path: string, data: NeonH5Data): Promise<void> {
  const [C, H, W] = data.lshape;
  const F = C * H * W;
  if (data.x.length !== data.labels.length * F) {
    throw new TlError(`${path}: ${data.x.length} input values for ${data.labels.length} labels of ${F} values each`);
  }
  await writeAtomic(path, async (tmp) => {
    const w = await NeonH5Writer.create(tmp, {
      lshape: data.lshape,
      nclass: data.nclass,
      classNames: data.classNames,
      dtype: data.x instanceof Float32Array ? 'float32' : 'uint8',
    });
    try {
      for (let i = 0; i < data.labels.length; i++) w.append(data.x.subarray(i * F, (i + 1) * F), data.labels[i]!);
      if (data.mean) w.writeMean(data.mean);
    } finally {
      w.close();
    }
  });
}
