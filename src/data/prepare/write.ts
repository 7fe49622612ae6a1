// The one writer every `prepare` source shares: DIR/train.h5 then DIR/test.h5 in neon's
// HDF5Iterator format (h5write.ts), each written atomically, with the per-channel mean of
// the training rows in both files. Items whose row() throws Skip are tallied, not written.
import { join } from 'node:path';
import { writeAtomic } from '../../util/atomic.js';
import { TlError } from '../../util/errors.js';
import { NeonH5Writer } from '../h5write.js';
import type { ChannelOrder } from '../image.js';
import { Skip, type Item, type Tally } from './items.js';

export interface SplitReport {
  path: string;
  count: number;
  perClass: number[];
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
  onProgress?: (p: { done: number; total: number; split: 'train' | 'test'; item: string }) => void;
}

/** Writes both splits; returns their reports and the training mean written to both. */
export async function writeSplits(o: SplitsToWrite): Promise<{ train: SplitReport; test: SplitReport; mean: Float32Array }> {
  const { out, classNames, channels, size, tally } = o;
  const C = channels === 'gray' ? 1 : 3;
  const lshape: [number, number, number] = [C, size, size];
  const total = o.train.length + o.test.length;
  let done = 0;
  const sums = new Float64Array(C);
  const HW = size * size;
  let mean = new Float32Array(C);

  const writeSplit = async (split: 'train' | 'test', items: Item[]): Promise<SplitReport> => {
    const path = join(out, `${split}.h5`);
    const perClass = new Array<number>(classNames.length).fill(0);
    let count = 0;
    await writeAtomic(path, async (tmp) => {
      const w = await NeonH5Writer.create(tmp, { lshape, nclass: classNames.length, classNames, dtype: 'uint8', channelOrder: channels });
      try {
        for (const it of items) {
          try {
            const row = it.row();
            w.append(row, it.label);
            perClass[it.label]!++;
            count++;
            if (split === 'train') {
              for (let c = 0; c < C; c++) {
                let s = 0;
                for (let p = c * HW; p < (c + 1) * HW; p++) s += row[p]!;
                sums[c]! += s;
              }
            }
          } catch (e) {
            if (!(e instanceof Skip)) throw e;
            tally.add(it.name, e.reason, e.detail);
          }
          done++;
          o.onProgress?.({ done, total, split, item: it.name });
        }
        if (split === 'train') {
          if (count === 0) throw new TlError(`prepare: none of the ${items.length} training images could be used (${tally.total} skipped)`);
          // a classifier needs two classes: one whose every training image was skipped leaves one
          if (perClass.filter((n) => n > 0).length < 2) {
            const lost = new Set(items.filter((it) => perClass[it.label] === 0).map((it) => it.label));
            const lostNames = new Set(items.filter((it) => lost.has(it.label)).map((it) => it.name));
            const first = tally.items.find((s) => lostNames.has(s.item));
            throw new TlError(`prepare: no training image of class ${[...lost].map((c) => `'${classNames[c]}'`).join(', ')} could be read${first ? ` (e.g. ${first.detail})` : ''}; a classifier needs at least two classes: replace the unreadable images`);
          }
          mean = Float32Array.from(sums, (s) => s / (count * HW));
        }
        w.writeMean(mean);
      } finally {
        w.close();
      }
    });
    return { path, count, perClass };
  };

  const train = await writeSplit('train', o.train);
  const test = await writeSplit('test', o.test);
  return { train, test, mean };
}
