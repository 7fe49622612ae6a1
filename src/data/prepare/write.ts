// The one writer every `prepare` source shares: DIR/train.h5 then DIR/test.h5 in neon's
// HDF5Iterator format (h5write.ts), each written atomically, with the per-channel mean of
// the training rows in both files. Items whose row cannot be made are tallied, not written.
//
// Image files are decoded and resized on worker threads (pool.ts) while this thread keeps
// them in item order, so the files do not depend on the number of workers. Rows go to
// shard files of a bounded number of rows (shards.ts): memory stays bounded, and a run
// stopped part-way continues from the shards it finds. The final files are assembled from
// the shards at the end.
import { join } from 'node:path';
import { writeAtomic } from '../../util/atomic.js';
import { TlError } from '../../util/errors.js';
import { NeonH5Writer } from '../h5write.js';
import type { ChannelOrder } from '../image.js';
import { Skip, type Item, type Tally } from './items.js';
import { RowPool } from './pool.js';
import type { RowReply } from './row-worker.js';
import { fingerprint, PartialOutput, type ShardHeader } from './shards.js';

export interface SplitReport {
  path: string;
  count: number;
  perClass: number[];
}

export interface WriteProgress {
  done: number;
  total: number;
  split: 'train' | 'test';
  item: string;
  /** Of `done`, the images a stopped earlier run had prepared (not done again). */
  resumed: number;
  /** Images skipped so far (of `done`). */
  skipped: number;
}

export interface SplitsToWrite {
  out: string;
  classNames: string[];
  channels: ChannelOrder;
  /** Output height = width. */
  size: number;
  train: Item[];
  test: Item[];
  tally: Tally;
  /** Worker threads decoding and resizing images. */
  workers: number;
  /** Items per shard (the unit of memory and of work kept when a run stops). */
  shardItems: number;
  /** Everything else that decides the output (source, options), for the journal's fingerprint. */
  config: unknown;
  onProgress?: (p: WriteProgress) => void;
  /** One-line notes (a stopped run started over, a decoder that could not load). */
  onNote?: (m: string) => void;
}

/**
 * Results of the items of one split, in item order: rows made on the workers ahead of need,
 * at most `window` at a time, each written by its worker straight into `slot(i)` (a view of
 * the shared buffer of item i's shard).
 */
class OrderedRows {
  private readonly ahead = new Map<number, Promise<RowReply>>();
  private next = 0;

  constructor(
    private readonly items: Item[],
    private readonly todo: number[],
    private readonly pool: () => RowPool,
    private readonly window: number,
    private readonly slot: (i: number) => Uint8Array,
  ) {}

  private fill(): void {
    for (let k = this.next; k < Math.min(this.todo.length, this.next + this.window); k++) {
      const i = this.todo[k]!;
      const job = this.items[i]!.job;
      if (job && !this.ahead.has(i)) {
        const p = this.pool().submit(job, this.slot(i));
        p.catch(() => undefined); // awaited in take(); one never taken (the run stopped first) must not be an unhandled rejection
        this.ahead.set(i, p);
      }
    }
  }

  /**
   * The next item's row, or the Skip that says why it has none: `sums` when a worker wrote
   * it into its slot, `row` when it was made here.
   */
  async take(): Promise<{ row: Uint8Array } | { sums: number[] } | Skip> {
    this.fill();
    const i = this.todo[this.next++]!;
    const it = this.items[i]!;
    const p = this.ahead.get(i);
    if (!p) {
      try {
        return { row: it.row!() };
      } catch (e) {
        if (e instanceof Skip) return e;
        throw e;
      }
    }
    this.ahead.delete(i);
    const r = await p;
    if ('sums' in r) return { sums: r.sums };
    if ('skip' in r) return new Skip(r.skip.reason, r.skip.detail);
    throw new TlError(`prepare: ${it.name}: ${r.error}`);
  }
}

/** Writes both splits; returns their reports, the training mean written to both, and the images an earlier run had done. */
export async function writeSplits(o: SplitsToWrite): Promise<{ train: SplitReport; test: SplitReport; mean: Float32Array; resumed: number }> {
  const { out, classNames, channels, size, tally } = o;
  const C = channels === 'gray' ? 1 : 3;
  const HW = size * size;
  const F = C * HW;
  const S = o.shardItems;
  const total = o.train.length + o.test.length;
  const names = (items: Item[]) => items.map((it) => [it.name, it.label]);
  const print = fingerprint({ config: o.config, C, size, S, train: names(o.train), test: names(o.test) });
  const partial = new PartialOutput(out, print, F, o.onNote);
  let pool: RowPool | undefined;
  const getPool = () => (pool ??= new RowPool(o.workers, o.onNote));
  let done = 0;
  let resumed = 0;
  const skippedBefore = tally.items.length;
  const headers: Record<'train' | 'test', ShardHeader[]> = { train: [], test: [] };

  const makeSplit = async (split: 'train' | 'test', items: Item[]) => {
    const nShards = Math.ceil(items.length / S);
    const todo: number[] = [];
    for (let k = 0; k < nShards; k++) if (!partial.has(split, k)) for (let i = k * S; i < Math.min(items.length, (k + 1) * S); i++) todo.push(i);
    // one shared buffer per shard being made (the window of rows ahead spans at most two)
    const shardBufs = new Map<number, Uint8Array>();
    const shardBuf = (k: number) => {
      let b = shardBufs.get(k);
      if (!b) shardBufs.set(k, (b = new Uint8Array(new SharedArrayBuffer((Math.min(items.length, (k + 1) * S) - k * S) * F))));
      return b;
    };
    const slot = (i: number) => shardBuf(Math.floor(i / S)).subarray((i % S) * F, (i % S + 1) * F);
    const rows = new OrderedRows(items, todo, getPool, Math.max(4, 4 * o.workers), slot);
    for (let k = 0; k < nShards; k++) {
      const start = k * S, end = Math.min(items.length, start + S);
      if (partial.has(split, k)) {
        const h = partial.header(split, k);
        headers[split].push(h);
        for (const s of h.skipped) tally.add(s.item, s.reason, s.detail);
        done += end - start;
        resumed += end - start;
        o.onProgress?.({ done, total, split, item: items[end - 1]!.name, resumed, skipped: tally.items.length - skippedBefore });
        continue;
      }
      const buf = shardBuf(k);
      const h: ShardHeader = { split, start, end, labels: [], skipped: [], sums: new Array<number>(C).fill(0) };
      for (let i = start; i < end; i++) {
        const it = items[i]!;
        const r = await rows.take();
        if (r instanceof Skip) {
          tally.add(it.name, r.reason, r.detail);
          h.skipped.push({ item: it.name, reason: r.reason, detail: r.detail });
        } else {
          // rows sit in item order; a skip before this one leaves a gap that closes here
          const at = h.labels.length * F;
          if ('row' in r) buf.set(r.row, at);
          else if (i - start !== h.labels.length) buf.copyWithin(at, (i - start) * F, (i - start + 1) * F);
          const row = buf.subarray(at, at + F);
          h.labels.push(it.label);
          for (let c = 0; c < C; c++) {
            let s = 'sums' in r ? r.sums[c] : undefined;
            if (s === undefined) {
              s = 0;
              for (let p = c * HW; p < (c + 1) * HW; p++) s += row[p]!;
            }
            h.sums[c]! += s;
          }
        }
        done++;
        o.onProgress?.({ done, total, split, item: it.name, resumed, skipped: tally.items.length - skippedBefore });
      }
      shardBufs.delete(k);
      try {
        partial.write(k, h, buf.subarray(0, h.labels.length * F));
      } catch (e) {
        if (!(e instanceof TlError)) throw e;
        throw new TlError(`${e.message} (the ${done - (end - start)} images prepared before it are kept in ${partial.dir}: run the same command again to continue)`);
      }
      headers[split].push(h);
    }
  };

  const perClassOf = (hs: ShardHeader[]) => {
    const n = new Array<number>(classNames.length).fill(0);
    for (const h of hs) for (const l of h.labels) n[l]!++;
    return n;
  };
  let mean: Float32Array;
  try {
    await makeSplit('train', o.train);
    const trainPerClass = perClassOf(headers.train);
    const count = trainPerClass.reduce((a, b) => a + b, 0);
    if (count === 0) throw new TlError(`prepare: none of the ${o.train.length} training images could be used (${tally.total} skipped)`);
    // a classifier needs two classes: one whose every training image was skipped leaves one
    if (trainPerClass.filter((n) => n > 0).length < 2) {
      const lost = new Set(o.train.filter((it) => trainPerClass[it.label] === 0).map((it) => it.label));
      const lostNames = new Set(o.train.filter((it) => lost.has(it.label)).map((it) => it.name));
      const first = tally.items.find((s) => lostNames.has(s.item));
      throw new TlError(`prepare: no training image of class ${[...lost].map((c) => `'${classNames[c]}'`).join(', ')} could be read${first ? ` (e.g. ${first.detail})` : ''}; a classifier needs at least two classes: replace the unreadable images`);
    }
    const sums = new Float64Array(C);
    for (const h of headers.train) h.sums.forEach((s, c) => (sums[c]! += s));
    mean = Float32Array.from(sums, (s) => s / (count * HW));
    await makeSplit('test', o.test);
  } catch (e) {
    // a run stopped by a full disk, a kill or a failing worker continues later; one that cannot
    // succeed with these options (no usable class) leaves nothing behind
    if (e instanceof TlError && /no training image|none of the/.test(e.message)) partial.remove();
    throw e;
  } finally {
    await pool?.close();
  }

  // test.h5 is written inside train.h5's write, so that train.h5 appears only once both are complete
  const fill = async (split: 'train' | 'test', tmp: string) => {
    const w = await NeonH5Writer.create(tmp, { lshape: [C, size, size], nclass: classNames.length, classNames, dtype: 'uint8', channelOrder: channels });
    try {
      for (let k = 0; k < headers[split].length; k++) {
        const { header, rows } = partial.read(split, k);
        w.appendRows(rows, header.labels);
      }
      w.writeMean(mean);
    } finally {
      w.close();
    }
  };
  const report = (split: 'train' | 'test'): SplitReport => {
    const perClass = perClassOf(headers[split]);
    return { path: join(out, `${split}.h5`), count: perClass.reduce((a, b) => a + b, 0), perClass };
  };
  try {
    await writeAtomic(join(out, 'train.h5'), async (tmp) => {
      await fill('train', tmp);
      await writeAtomic(join(out, 'test.h5'), (tmp2) => fill('test', tmp2));
    });
  } catch (e) {
    if (!(e instanceof TlError)) throw e;
    throw new TlError(`${e.message} (every image is prepared and kept in ${partial.dir}: run the same command again to write the files)`);
  }
  const train = report('train'), test = report('test');
  partial.remove();
  return { train, test, mean, resumed };
}
