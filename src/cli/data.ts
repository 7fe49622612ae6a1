// Training and test sets for the CLI: a neon-format folder (DIR/train.h5, DIR/test.h5) or a
// built-in set ("builtin:mnist", "builtin:fashion-tshirt-shirt"), optionally cut down to
// N labelled training images per class.
import { shareablePath } from './format.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_NAMES, loadBuiltin, type BuiltinName } from '../data/builtin.js';
import { HDF5IteratorOneHot } from '../data/hdf5.js';
import { PrefetchIterator } from '../data/prefetch.js';
import { ArrayIterator, seededRng, permutation, type DataIterator } from '../data/iterator.js';
import { TlError, UsageError } from '../util/errors.js';

export interface DataOptions {
  dataRoot: string;
  batchSize: number;
  /** Keep N training images of each class (seeded); undefined keeps all. */
  trainPerClass?: number;
  seed: number;
  /** Image size for built-in sets (28×28 digits are zero-padded; VGG needs a multiple of 32). */
  builtinSize?: number;
  /** Only the test set will be used (eval): the batch size is not checked against the training set. */
  evalOnly?: boolean;
  /** Pixels as stored, without the data's mean subtracted (for --preprocess caffe/torchvision). */
  rawPixels?: boolean;
  /** Read the training set's next minibatch on a worker thread while the current one computes (HDF5 data only; src/data/prefetch.ts). */
  prefetch?: boolean;
}

export interface DataSets {
  train: DataIterator;
  test: DataIterator;
  description: string;
  /** A built-in set: its mean (0 with rawPixels) and class names. */
  builtin?: { mean: number; classNames: string[] };
}

/** N examples of each class from `labels`, chosen by a seeded permutation, kept in file order. */
function rowsPerClass(labels: ArrayLike<number>, nclass: number, n: number, seed: number, where: string): Int32Array {
  const byClass: number[][] = Array.from({ length: nclass }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const rng = seededRng(seed);
  const chosen: number[] = [];
  byClass.forEach((idx, c) => {
    if (idx.length < n) throw new UsageError(`${where}: class ${c} has ${idx.length} training examples, fewer than --train_per_class ${n}`);
    const p = permutation(idx.length, rng);
    for (let k = 0; k < n; k++) chosen.push(idx[p[k]!]!);
  });
  return Int32Array.from(chosen.sort((a, b) => a - b));
}

function checkBatch(set: { ndata: number }, bsz: number, what: string, skip = false): void {
  if (!skip && set.ndata < bsz) throw new UsageError(`batch size ${bsz} is larger than the ${what} (${set.ndata} examples); use a smaller -z/--batch_size`);
}

/**
 * A training set a classifier can learn from: nclass ≥ 2 and labels of at least two classes
 * (one class trains to cost 0 and 100% accuracy without learning anything).
 */
function checkTwoClasses(set: { nclass: number; labels: ArrayLike<number> }, path: string): void {
  const fix = "a classifier needs at least two: prepare the data from a folder with a sub-folder of images per class ('tl-scratch prepare --image_folder DIR --out ...')";
  if (set.nclass < 2) throw new TlError(`${path}: nclass is ${set.nclass}; ${fix}`);
  const seen = new Set<number>();
  for (let i = 0; i < set.labels.length && seen.size < 2; i++) seen.add(set.labels[i]!);
  if (seen.size < 2) throw new TlError(`${path}: every one of its ${set.labels.length} labels is ${[...seen][0] ?? 'missing'} (of ${set.nclass} classes declared); ${fix}`);
}

export function checkDataFolder(root: string, files: string[]): void {
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new UsageError(`--data_root ${root}: is a file, where a folder holding ${files.join(' and ')} is expected; give the folder ('tl-scratch prepare --out DIR' writes one)`);
  }
  if (!existsSync(root)) {
    throw new UsageError(`data folder ${root} does not exist; create ${files.join(' and ')} there with 'tl-scratch prepare --out ${root} ...', or use --data_root builtin:fashion-tshirt-shirt`);
  }
  for (const f of files) {
    if (!existsSync(join(root, f))) {
      const has = readdirSync(root);
      throw new UsageError(`data folder ${root} has no ${f}${has.length ? ` (it holds ${has.slice(0, 5).join(', ')}${has.length > 5 ? ', ...' : ''})` : ' (it is empty)'}; write it with 'tl-scratch prepare --out ${root} ...'`);
    }
  }
}

/**
 * The test set alone (eval): DIR/test.h5, whose own `mean` is subtracted (prepare writes the
 * training split's mean into both files), or a built-in test split (minus the mean of its
 * official training split, as in training). DIR/train.h5 need not exist.
 */
export async function loadTestSet(o: { dataRoot: string; batchSize: number; builtinSize?: number; rawPixels?: boolean }): Promise<{ test: DataIterator; description: string }> {
  if (o.dataRoot.startsWith('builtin:')) {
    const name = builtinName(o.dataRoot);
    const size = o.builtinSize ?? 32;
    const b = builtinIterators(name, { size, bsz: o.batchSize, testBsz: o.batchSize, seed: 0, mean: o.rawPixels ? 0 : undefined });
    b.train.close();
    return { test: b.test, description: `built-in ${name}: ${b.testSet.n} test images, ${size}×${size} gray, pixel values 0..255${o.rawPixels ? '' : ` minus their training split's mean ${b.mean.toFixed(1)}`}, ${b.testSet.nclass} classes` };
  }
  const root = o.dataRoot;
  checkDataFolder(root, ['test.h5']);
  const path = join(root, 'test.h5');
  const probe = await HDF5IteratorOneHot.open(path, { bsz: 1 });
  const n = probe.ndata;
  probe.close();
  const test = await HDF5IteratorOneHot.open(path, { bsz: Math.min(o.batchSize, n), subtractMean: !o.rawPixels });
  return { test, description: `${shareablePath(path)}: ${test.ndata} test examples of shape (${test.lshape.join(', ')}), ${test.nclass} classes` };
}

export async function loadDataSets(o: DataOptions): Promise<DataSets> {
  if (o.dataRoot.startsWith('builtin:')) return loadBuiltinSets(o);
  const root = o.dataRoot;
  checkDataFolder(root, ['train.h5', 'test.h5']);
  const subtractMean = !o.rawPixels;
  let train: DataIterator = await HDF5IteratorOneHot.open(join(root, 'train.h5'), { bsz: 1, subtractMean });
  const test = await HDF5IteratorOneHot.open(join(root, 'test.h5'), { bsz: 1, subtractMean });
  let description = `${shareablePath(root)}: ${train.ndata} training, ${test.ndata} test examples of shape (${train.lshape.join(', ')}), ${train.nclass} classes`;
  const full = train as HDF5IteratorOneHot;
  checkTwoClasses(full, join(root, 'train.h5'));
  if (o.trainPerClass !== undefined) {
    const rows = rowsPerClass(full.labels, full.nclass, o.trainPerClass, o.seed, join(root, 'train.h5'));
    train = new ArrayIterator({ x: full.readExamples(rows), y: Array.from(rows, (r) => full.labels[r]!), nclass: full.nclass, lshape: full.lshape, bsz: o.batchSize, name: `${root}/train.h5 (${o.trainPerClass} per class)` });
    full.close();
    description += `; training on ${o.trainPerClass} per class`;
  } else {
    checkBatch(train, o.batchSize, `training set ${root}/train.h5`, o.evalOnly);
    full.close();
    const file = await HDF5IteratorOneHot.open(join(root, 'train.h5'), { bsz: Math.min(o.batchSize, train.ndata), subtractMean });
    train = o.prefetch ? new PrefetchIterator(file) : file;
  }
  checkBatch(train, o.batchSize, 'training set', o.evalOnly);
  test.close();
  const testSet = await HDF5IteratorOneHot.open(join(root, 'test.h5'), { bsz: Math.min(o.batchSize, test.ndata), subtractMean });
  if (testSet.nclass !== train.nclass) throw new TlError(`${root}: train.h5 has ${train.nclass} classes but test.h5 has ${testSet.nclass}`);
  return { train, test: testSet, description };
}

/**
 * A built-in set as the lab's pipeline would see it after `tl-scratch prepare`: 8-bit pixel
 * values (0..255, no rescaling, as neon) zero-padded to `size`, minus the per-channel mean
 * of the whole official training split (computed without labels, so the same for every
 * labelled subset).
 */
export function builtinIterators(name: BuiltinName, o: { size: number; bsz: number; testBsz: number; trainPerClass?: number; seed: number; mean?: number }) {
  const fullTrain = loadBuiltin(name, 'train');
  const t = { size: o.size, fit: 'pad' as const, scale: 'byte' as const, channels: 1 as const };
  const mean = Float32Array.from([o.mean ?? builtinMean(name, o.size)]);
  const trainSet = o.trainPerClass !== undefined ? fullTrain.takePerClass(o.trainPerClass, o.seed) : fullTrain;
  const testSet = loadBuiltin(name, 'test');
  return {
    trainSet,
    testSet,
    train: trainSet.iterator({ ...t, mean, bsz: Math.min(o.bsz, trainSet.n) }),
    test: testSet.iterator({ ...t, mean, bsz: Math.min(o.testBsz, testSet.n) }),
    mean: mean[0]!,
  };
}

/** Mean pixel value (0..255) of a built-in set's official training split, padded to `size`. */
export function builtinMean(name: BuiltinName, size: number): number {
  const padded = loadBuiltin(name, 'train').transformed({ size, fit: 'pad', scale: 'byte', channels: 1 }).images;
  let sum = 0;
  for (let i = 0; i < padded.length; i++) sum += padded[i]!;
  return sum / padded.length;
}

function builtinName(dataRoot: string): BuiltinName {
  const name = dataRoot.slice('builtin:'.length) as BuiltinName;
  if (!BUILTIN_NAMES.includes(name)) throw new UsageError(`unknown built-in data set '${name}'; choose one of ${BUILTIN_NAMES.map((n) => `builtin:${n}`).join(', ')}`);
  return name;
}

function loadBuiltinSets(o: DataOptions): DataSets {
  const name = builtinName(o.dataRoot);
  const size = o.builtinSize ?? 32;
  const b = builtinIterators(name, { size, bsz: o.batchSize, testBsz: o.batchSize, trainPerClass: o.trainPerClass, seed: o.seed, mean: o.rawPixels ? 0 : undefined });
  checkBatch({ ndata: b.trainSet.n }, o.batchSize, `built-in training set ${name}`, o.evalOnly);
  return {
    train: b.train,
    test: b.test,
    description: `built-in ${name}: ${b.trainSet.n} training, ${b.testSet.n} test images, ${size}×${size} gray, pixel values 0..255${o.rawPixels ? '' : ` minus their mean ${b.mean.toFixed(1)}`}, ${b.trainSet.nclass} classes`,
    builtin: { mean: b.mean, classNames: [...b.trainSet.classNames] },
  };
}
