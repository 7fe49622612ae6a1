// `tl-scratch prepare`: build DIR/train.h5 and DIR/test.h5 in neon's HDF5Iterator format
// (uint8 `input` + `lshape` + `channel_order`, int32 `output` (N, 1) + `nclass` + `class_names`, per-channel
// `mean` of the training split in both files) from an image folder tree, from IMDB-WIKI's
// wiki.mat/imdb.mat, or from a built-in data set. Each file is written atomically.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { writeAtomic } from '../util/atomic.js';
import { TlError, UsageError } from '../util/errors.js';
import { BUILTIN_NAMES, loadBuiltin, type BuiltinName, type ImageSet } from './builtin.js';
import { NeonH5Writer } from './h5write.js';
import { decodeImage, faceRegion, resizeShortSideCenterCrop, toChannelMajor, toUint8, type ChannelOrder } from './image.js';
import { permutation, seededRng, type Rng } from './iterator.js';
import { cellStrings, numbersOf, readMat, type MatStruct } from './mat5.js';

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
  /** Called after every image; the CLI draws its progress bar from it. */
  onProgress?: (p: PrepareProgress) => void;
}

export interface PrepareProgress {
  /** Images processed so far (kept or skipped), over both splits. */
  done: number;
  /** Images to process in all. */
  total: number;
  split: 'train' | 'test';
  /** The image just processed (a path, or "name #index" for built-in data). */
  item: string;
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

export interface SplitReport {
  path: string;
  count: number;
  perClass: number[];
}

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
  kept: number;
  /** Count per reason of everything not kept. */
  skipped: Partial<Record<SkipReason, number>>;
  /** The first few skipped items, with the reason and detail. */
  skippedExamples: { item: string; reason: SkipReason; detail: string }[];
}

class Skip extends Error {
  constructor(
    readonly reason: SkipReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** One example to be made: a label and a way to produce its row (or throw Skip). */
interface Item {
  label: number;
  name: string;
  row: () => Uint8Array;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);
const MAX_SKIP_EXAMPLES = 20;

class Tally {
  readonly skipped: Partial<Record<SkipReason, number>> = {};
  readonly examples: { item: string; reason: SkipReason; detail: string }[] = [];
  add(item: string, reason: SkipReason, detail: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    if (this.examples.length < MAX_SKIP_EXAMPLES) this.examples.push({ item, reason, detail });
  }
  get total(): number {
    return Object.values(this.skipped).reduce((a, b) => a + (b ?? 0), 0);
  }
}

function readImageFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Skip('missing file', `${path}: no such file`);
    throw new Skip('unreadable', `${path}: ${err.message}`);
  }
}

function decodeOrSkip(buf: Uint8Array, path: string) {
  try {
    return decodeImage(buf, path);
  } catch (e) {
    throw new Skip('undecodable', (e as Error).message);
  }
}

function checkNumber(name: string, v: number, lo: number, hi: number, integer = false): void {
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new UsageError(`prepare: ${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${v}`);
  }
}

/** Stratified split: per class, a seeded shuffle, the first round(n·f) to test; then each split shuffled. */
function splitItems(items: Item[], nclass: number, testFraction: number, rng: Rng): { train: Item[]; test: Item[] } {
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

function limitItems(items: Item[], max: number | undefined, rng: Rng): Item[] {
  if (max === undefined || items.length <= max) return items;
  const p = permutation(items.length, rng);
  return Array.from(p.subarray(0, max)).sort((a, b) => a - b).map((i) => items[i]!);
}

function folderSource(root: string, size: number, channels: ChannelOrder, tally: Tally): { classNames: string[]; items: Item[]; considered: number } {
  if (!existsSync(root)) throw new TlError(`image folder ${root}: no such folder`);
  if (!statSync(root).isDirectory()) throw new TlError(`image folder ${root}: not a folder; expected ROOT/<class>/*.jpg|png`);
  const classNames = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  if (classNames.length === 0) throw new TlError(`image folder ${root}: no class folders; expected ROOT/<class>/*.jpg|png`);
  const items: Item[] = [];
  let considered = 0;
  classNames.forEach((cls, label) => {
    const dir = join(root, cls);
    let n = 0;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (!IMAGE_EXT.has(extname(e.name).toLowerCase())) {
        if (e.isFile()) {
          considered++;
          tally.add(path, 'not an image file', `${path}: not .jpg, .jpeg or .png`);
        }
        continue;
      }
      considered++;
      n++;
      items.push({
        label,
        name: path,
        row: () => {
          const img = decodeOrSkip(readImageFile(path), path);
          return toChannelMajor(resizeShortSideCenterCrop(img, size), channels);
        },
      });
    }
    if (n === 0) throw new TlError(`image folder ${dir}: class '${cls}' has no .jpg, .jpeg or .png images`);
  });
  return { classNames, items, considered };
}

function imdbWikiSource(
  dir: string,
  o: { size: number; channels: ChannelOrder; minFaceScore: number; faceMargin: number },
  tally: Tally,
): { classNames: string[]; items: Item[]; considered: number } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new TlError(`IMDB-WIKI folder ${dir}: no such folder`);
  const matPath = ['wiki.mat', 'imdb.mat'].map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!matPath) throw new TlError(`IMDB-WIKI folder ${dir}: neither wiki.mat nor imdb.mat is there`);
  const vars = readMat(matPath);
  const top = vars['wiki'] ?? vars['imdb'] ?? Object.values(vars).find((v) => v.kind === 'struct');
  if (!top || top.kind !== 'struct' || top.elements.length !== 1) {
    throw new TlError(`${matPath}: expected a 1x1 struct variable 'wiki' or 'imdb'`);
  }
  const s = top as MatStruct;
  const field = (f: string) => {
    const v = s.elements[0]![f];
    if (!v) throw new TlError(`${matPath}: the struct has no field '${f}' (fields: ${s.fields.join(', ')})`);
    return v;
  };
  const paths = cellStrings(field('full_path'), `${matPath}: full_path`);
  const gender = numbersOf(field('gender'), `${matPath}: gender`);
  const score = numbersOf(field('face_score'), `${matPath}: face_score`);
  const second = numbersOf(field('second_face_score'), `${matPath}: second_face_score`);
  const locV = field('face_location');
  if (locV.kind !== 'cell') throw new TlError(`${matPath}: face_location must be a cell array of [x1 y1 x2 y2]`);
  const n = paths.length;
  for (const [name, arr] of [['gender', gender], ['face_score', score], ['second_face_score', second], ['face_location', locV.items]] as const) {
    if (arr.length !== n) throw new TlError(`${matPath}: ${name} has ${arr.length} entries but full_path has ${n}`);
  }
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    const rel = paths[i]!;
    const path = join(dir, rel);
    const g = gender[i]!;
    if (!(g === 0 || g === 1)) {
      tally.add(path, 'gender unknown', `row ${i}: gender ${g}`);
      continue;
    }
    if (!Number.isFinite(score[i]!)) {
      tally.add(path, 'no face', `row ${i}: face_score ${score[i]}`);
      continue;
    }
    if (!(score[i]! > o.minFaceScore)) {
      tally.add(path, 'face score too low', `row ${i}: face_score ${score[i]} ≤ ${o.minFaceScore}`);
      continue;
    }
    if (!Number.isNaN(second[i]!)) {
      tally.add(path, 'second face', `row ${i}: second_face_score ${second[i]}`);
      continue;
    }
    const loc = locV.items[i]!;
    const box = loc.kind === 'numeric' ? loc.data : new Float64Array(0);
    if (box.length !== 4) {
      tally.add(path, 'bad face box', `row ${i}: face_location has ${box.length} values, expected 4`);
      continue;
    }
    items.push({
      label: g,
      name: path,
      row: () => {
        const img = decodeOrSkip(readImageFile(path), path);
        const region = faceRegion(box, o.faceMargin, img.width, img.height);
        if (!region) throw new Skip('bad face box', `${path}: face box [${Array.from(box).join(' ')}] lies outside the ${img.width}x${img.height} image`);
        return toChannelMajor(resizeShortSideCenterCrop(img, o.size, region), o.channels);
      },
    });
  }
  return { classNames: ['female', 'male'], items, considered: n };
}

function builtinItems(set: ImageSet, size: number, channels: ChannelOrder, fit: 'resize' | 'pad'): Item[] {
  const t = { size, fit, channels: (channels === 'gray' ? 1 : 3) as 1 | 3, scale: 'byte' as const };
  set.transformedShape(t); // validates before any work
  return Array.from(set.labels, (label, i) => ({ label, name: `${set.name} #${i}`, row: () => toUint8(set.example(i, t)) }));
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
    let trainSet = loadBuiltin(options.builtin!, 'train');
    if (options.perClass !== undefined) trainSet = trainSet.takePerClass(options.perClass, seed);
    const testSet = loadBuiltin(options.builtin!, 'test');
    const fit = options.fit ?? PREPARE_DEFAULTS.fit;
    classNames = [...trainSet.classNames];
    const trainItems = builtinItems(trainSet, size, channels, fit);
    train = Array.from(permutation(trainItems.length, rng), (i) => trainItems[i]!);
    test = builtinItems(testSet, size, channels, fit);
    considered = train.length + test.length;
    if (options.maxImages !== undefined) {
      const k = options.maxImages;
      const nTest = Math.min(test.length, Math.round((k * test.length) / considered));
      train = train.slice(0, k - nTest);
      test = test.slice(0, nTest);
    }
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

  const C = channels === 'gray' ? 1 : 3;
  const lshape: [number, number, number] = [C, size, size];
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const total = train.length + test.length;
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
          options.onProgress?.({ done, total, split, item: it.name });
        }
        if (split === 'train') {
          if (count === 0) throw new TlError(`prepare: none of the ${items.length} training images could be used (${tally.total} skipped)`);
          mean = Float32Array.from(sums, (s) => s / (count * HW));
        }
        w.writeMean(mean);
      } finally {
        w.close();
      }
    });
    return { path, count, perClass };
  };

  const trainReport = await writeSplit('train', train);
  const testReport = await writeSplit('test', test);
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
    kept: trainReport.count + testReport.count,
    skipped: tally.skipped,
    skippedExamples: tally.examples,
  };
}
