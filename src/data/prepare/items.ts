// What every source of `prepare` produces and shares: the examples to be written (Item),
// the reasons an image is skipped and their tally, and the seeded limit and stratified split of the folder-like sources.
import { permutation, type Rng } from '../iterator.js';
import type { RowJob } from './row-job.js';

/** Why an image was not kept. */
export type SkipReason =
  | 'unreadable'
  | 'undecodable'
  | 'missing file'
  | 'not an image file'
  | 'gender unknown'
  | 'no face'
  | 'face score too low'
  | 'second face'
  | 'bad face box';

/** Thrown by an Item's row() for an image that is skipped, not fatal. */
export class Skip extends Error {
  constructor(
    readonly reason: SkipReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * One example to be made: a label and how to produce its row (or throw Skip): an image file
 * as a RowJob (done on worker threads), or a function (built-in data, already in memory).
 */
export interface Item {
  label: number;
  name: string;
  job?: RowJob;
  row?: () => Uint8Array;
}

/** What a folder-like source yields before the split: class names, its items, candidates examined. */
export interface SourceItems {
  classNames: string[];
  items: Item[];
  considered: number;
}

/** One item not kept: the file (or "name #index"), why, and the detail (the decoder's message, the MAT row). */
export interface SkippedItem {
  item: string;
  reason: SkipReason;
  detail: string;
}

/** Skipped items: the count per reason and every item with its detail (prepare names them all). */
export class Tally {
  readonly skipped: Partial<Record<SkipReason, number>> = {};
  readonly items: SkippedItem[] = [];
  add(item: string, reason: SkipReason, detail: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    this.items.push({ item, reason, detail });
  }
  get total(): number {
    return Object.values(this.skipped).reduce((a, b) => a + (b ?? 0), 0);
  }
}

/** Stratified split: per class, a seeded shuffle, the first round(n·f) to test; then each split shuffled. */
export function splitItems(items: Item[], nclass: number, testFraction: number, rng: Rng): { train: Item[]; test: Item[] } {
  const train: Item[] = [];
  const test: Item[] = [];
  for (let c = 0; c < nclass; c++) {
    const cls = items.filter((it) => it.label === c);
    const p = permutation(cls.length, rng);
    const nTest = Math.round(cls.length * testFraction);
    for (let k = 0; k < cls.length; k++) (k < nTest ? test : train).push(cls[p[k]!]!);
  }
  const shuffle = (a: Item[]) => Array.from(permutation(a.length, rng), (i) => a[i]!);
  return { train: shuffle(train), test: shuffle(test) };
}

/** At most `max` items, a seeded choice kept in their original order. */
export function limitItems(items: Item[], max: number | undefined, rng: Rng): Item[] {
  if (max === undefined || items.length <= max) return items;
  const p = permutation(items.length, rng);
  return Array.from(p.subarray(0, max)).sort((a, b) => a - b).map((i) => items[i]!);
}
