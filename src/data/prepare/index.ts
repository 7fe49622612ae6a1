// `tl-scratch prepare`: build DIR/train.h5 and DIR/test.h5 in neon's HDF5Iterator format
// (uint8 `input` + `lshape` + `channel_order`, int32 `output` (N, 1) + `nclass` + `class_names`, per-channel
// `mean` of the training split in both files) from an image folder tree, from IMDB-WIKI's
// wiki.mat/imdb.mat, or from a built-in data set. Each file is written atomically.
//
// One file per source (image-folder.ts, imdb-wiki.ts, builtin.ts), what they share
// (items.ts: examples, skips, the split) and the writer (write.ts); this file checks the
// options, picks the source and reports.
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { TlError, UsageError } from '../../util/errors.js';
import { BUILTIN_NAMES, type BuiltinName } from '../builtin.js';
import type { ChannelOrder } from '../image.js';
import { seededRng } from '../iterator.js';
import { builtinSource } from './builtin.js';
import { folderSource } from './image-folder.js';
import { imdbWikiSource } from './imdb-wiki.js';
import { limitItems, splitItems, Tally, type Item, type SkippedItem, type SkipReason } from './items.js';
import { writeSplits, type SplitReport } from './write.js';

export type { SkippedItem, SkipReason, SplitReport };

/** The file in the output folder that lists every skipped item (written when any was skipped). */
const SKIPPED_FILE = 'skipped.txt';

/**
 * Options of `prepare`. Exactly one source: `imageFolder`, `imdbWiki` or `builtin`.
 * Defaults are in PREPARE_DEFAULTS.
 */
export interface PrepareOptions {
  /** Output folder (created if missing); receives train.h5 and test.h5. */
  out: string;
  /** Image folder tree ROOT/<class>/*.{jpg,jpeg,png}; classes are the sorted folder names. */
  imageFolder?: string;
  /** IMDB-WIKI folder holding wiki.mat (or imdb.mat) and the images named in its full_path. */
  imdbWiki?: string;
  /** A built-in set: 'mnist' or 'fashion-tshirt-shirt' (official train/test splits). */
  builtin?: BuiltinName;
  /** Output height = width. Default 224 (builtin: 28, the native size). */
  size?: number;
  /** Channel order of `input`. Default 'rgb' (builtin: 'gray'; 'rgb'/'bgr' replicate the gray image). */
  channels?: ChannelOrder;
  /** Seed of the deterministic shuffle and split. Default 0. */
  rngSeed?: number;
  /** Fraction of each class that goes to test.h5 (image folder, IMDB-WIKI). Default 0.2. */
  testFraction?: number;
  /** IMDB-WIKI: keep faces with face_score above this. Default 1.0. */
  minFaceScore?: number;
  /** IMDB-WIKI: margin around the face box, as a fraction of its width/height on each side. Default 0.4. */
  faceMargin?: number;
  /** Keep at most this many examples (after filtering and shuffling; before the split). Default: all. */
  maxImages?: number;
  /** Builtin: take this many training images per class (seeded by rngSeed). Default: all. */
  perClass?: number;
  /** Builtin: 'resize' (bilinear) or 'pad' (zero padding, size ≥ 28) to reach `size`. Default 'resize'. */
  fit?: 'resize' | 'pad';
  /** Worker threads that decode and resize image files. Default: the number of cores. */
  workers?: number;
  /** Images per shard of the work in progress (the unit kept when a run stops). Default: about 32 MB of rows. */
  shardImages?: number;
  /** Called after every image; the CLI draws its progress bar from it. */
  onProgress?: (p: PrepareProgress) => void;
  /** One-line notes on the way (a stopped run with other options started over, a decoder that could not load). */
  onNote?: (message: string) => void;
}

export interface PrepareProgress {
  /** Images processed so far (kept or skipped), over both splits. */
  done: number;
  /** Images to process in all. */
  total: number;
  split: 'train' | 'test';
  /** The image just processed (a path, or "name #index" for built-in data). */
  item: string;
  /** Of `done`, the images an earlier, stopped run had prepared (not done again). */
  resumed: number;
  /** Of `done`, the images skipped. */
  skipped: number;
}

export const PREPARE_DEFAULTS = {
  size: 224,
  builtinSize: 28,
  channels: 'rgb' as ChannelOrder,
  builtinChannels: 'gray' as ChannelOrder,
  rngSeed: 0,
  testFraction: 0.2,
  minFaceScore: 1.0,
  faceMargin: 0.4,
  fit: 'resize' as const,
} as const;

export interface PrepareReport {
  source: 'image-folder' | 'imdb-wiki' | 'builtin';
  out: string;
  train: SplitReport;
  test: SplitReport;
  classNames: string[];
  /** (C, H, W) of every row. */
  lshape: [number, number, number];
  channels: ChannelOrder;
  /** Per-channel mean of the training rows (0..255), as written to both files. */
  mean: number[];
  /** Candidates examined: files, MAT rows or built-in examples. */
  considered: number;
  /** Images read and decoded (the progress's total): considered less those skipped before reading and those --max_images left out. */
  read: number;
  /** Skipped before reading (not an image file; IMDB-WIKI's filters). */
  skippedBeforeReading: number;
  kept: number;
  /** Of `read`, the images a stopped earlier run had prepared (taken from OUT/.prepare-partial, not done again). */
  resumed: number;
  /** Count per reason of everything not kept. */
  skipped: Partial<Record<SkipReason, number>>;
  /** Every skipped item, with the reason and detail. */
  skippedItems: SkippedItem[];
  /** The first 20 of skippedItems. */
  skippedExamples: SkippedItem[];
  /** out/skipped.txt, listing every skipped item; undefined when none was skipped (a stale one is removed). */
  skippedFile?: string;
}

/** The training items' classes: a classifier needs at least two. */
function checkTwoClasses(train: Item[], classNames: string[], source: string, tally: Tally): void {
  const present = [...new Set(train.map((it) => it.label))].sort((a, b) => a - b);
  if (present.length >= 2) return;
  const which = present.length ? `only images of class '${classNames[present[0]!]}'` : 'no images';
  const hint = source === 'imdb-wiki'
    ? 'lower --min_face_score or raise --max_images, or check the gender column of the MAT file'
    : 'raise --max_images, or add images of the other classes';
  throw new TlError(`prepare: the training split holds ${which} (${tally.total} skipped before reading); a classifier needs at least two classes: ${hint}`);
}

/** The skipped items as a tab-separated list: file, reason, detail. */
function skippedList(items: SkippedItem[]): string {
  return ['file\treason\tdetail', ...items.map((s) => `${s.item}\t${s.reason}\t${s.detail.replace(/[\t\n]/g, ' ')}`)].join('\n') + '\n';
}

function checkNumber(name: string, v: number, lo: number, hi: number, integer = false): void {
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new UsageError(`prepare: ${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${v}`);
  }
}

/**
 * Build `out/train.h5` and `out/test.h5` (see PrepareOptions). Images that cannot be read
 * or decoded are skipped and counted in the report; configuration problems, a missing or
 * empty class folder, or a bad MAT-file throw a TlError naming the path.
 */
export async function prepare(options: PrepareOptions): Promise<PrepareReport> {
  const sources = [options.imageFolder, options.imdbWiki, options.builtin].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new UsageError('prepare: give exactly one source: an image folder, --imdb_wiki DIR or --builtin NAME');
  if (!options.out) throw new UsageError('prepare: --out DIR is required');
  const isBuiltin = options.builtin !== undefined;
  if (isBuiltin && !BUILTIN_NAMES.includes(options.builtin!)) {
    throw new UsageError(`prepare: unknown built-in data set '${options.builtin}'; choose one of ${BUILTIN_NAMES.join(', ')}`);
  }
  const size = options.size ?? (isBuiltin ? PREPARE_DEFAULTS.builtinSize : PREPARE_DEFAULTS.size);
  const channels = options.channels ?? (isBuiltin ? PREPARE_DEFAULTS.builtinChannels : PREPARE_DEFAULTS.channels);
  const seed = options.rngSeed ?? PREPARE_DEFAULTS.rngSeed;
  const testFraction = options.testFraction ?? PREPARE_DEFAULTS.testFraction;
  const minFaceScore = options.minFaceScore ?? PREPARE_DEFAULTS.minFaceScore;
  const faceMargin = options.faceMargin ?? PREPARE_DEFAULTS.faceMargin;
  checkNumber('size', size, 1, 4096, true);
  checkNumber('testFraction', testFraction, 0, 0.99);
  checkNumber('faceMargin', faceMargin, 0, 10);
  if (!Number.isFinite(minFaceScore) && minFaceScore !== -Infinity) throw new UsageError(`prepare: minFaceScore must be a number, got ${minFaceScore}`);
  if (options.maxImages !== undefined) checkNumber('maxImages', options.maxImages, 1, Number.MAX_SAFE_INTEGER, true);
  if (options.perClass !== undefined) checkNumber('perClass', options.perClass, 1, Number.MAX_SAFE_INTEGER, true);
  const workers = options.workers ?? availableParallelism();
  checkNumber('workers', workers, 1, 256, true);
  const rowBytes = (channels === 'gray' ? 1 : 3) * size * size;
  const shardImages = options.shardImages ?? Math.max(1, Math.floor((32 << 20) / rowBytes));
  checkNumber('shardImages', shardImages, 1, Number.MAX_SAFE_INTEGER, true);
  if (!['rgb', 'bgr', 'gray'].includes(channels)) throw new UsageError(`prepare: channels must be rgb, bgr or gray, got '${channels}'`);

  const rng = seededRng(seed);
  const tally = new Tally();
  let classNames: string[];
  let train: Item[];
  let test: Item[];
  let considered: number;
  let source: PrepareReport['source'];
  if (isBuiltin) {
    source = 'builtin';
    const fit = options.fit ?? PREPARE_DEFAULTS.fit;
    ({ classNames, train, test, considered } = builtinSource(options.builtin!, { size, channels, fit, seed, perClass: options.perClass, maxImages: options.maxImages }, rng));
  } else {
    const src = options.imageFolder !== undefined
      ? ((source = 'image-folder'), folderSource(resolve(options.imageFolder), size, channels, tally))
      : ((source = 'imdb-wiki'), imdbWikiSource(resolve(options.imdbWiki!), { size, channels, minFaceScore, faceMargin }, tally));
    classNames = src.classNames;
    considered = src.considered;
    const items = limitItems(src.items, options.maxImages, rng);
    ({ train, test } = splitItems(items, classNames.length, testFraction, rng));
  }
  if (train.length === 0) throw new TlError(`prepare: no training images left to write (${tally.total} skipped)`);
  checkTwoClasses(train, classNames, source, tally);
  const skippedBeforeReading = tally.total;

  const out = resolve(options.out);
  const created = !existsSync(out);
  mkdirSync(out, { recursive: true });
  let written;
  try {
    const config = { source, from: options.imageFolder ?? options.imdbWiki ?? options.builtin, seed, testFraction, minFaceScore, faceMargin, maxImages: options.maxImages, perClass: options.perClass, fit: options.fit };
    written = await writeSplits({ out, classNames, channels, size, train, test, tally, workers, shardItems: shardImages, config, onProgress: options.onProgress, onNote: options.onNote });
  } catch (e) {
    // nothing written: a folder made for this run goes again (when still empty)
    if (created && readdirSync(out).length === 0) rmdirSync(out);
    throw e;
  }
  const skippedPath = join(out, SKIPPED_FILE);
  if (tally.items.length) writeFileAtomicSync(skippedPath, skippedList(tally.items));
  else rmSync(skippedPath, { force: true });
  const trainReport = written.train;
  const testReport = written.test;
  const lshape: [number, number, number] = [channels === 'gray' ? 1 : 3, size, size];
  const mean = written.mean;
  return {
    source,
    out,
    train: trainReport,
    test: testReport,
    classNames,
    lshape,
    channels,
    mean: Array.from(mean),
    considered,
    read: train.length + test.length,
    resumed: written.resumed,
    skippedBeforeReading,
    kept: trainReport.count + testReport.count,
    skipped: tally.skipped,
    skippedItems: tally.items,
    skippedExamples: tally.items.slice(0, 20),
    skippedFile: tally.items.length ? skippedPath : undefined,
  };
}
