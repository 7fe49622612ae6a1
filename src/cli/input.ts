// --preprocess for train, eval and predict: which convention (src/data/preprocess.ts) the
// run uses, chosen from the flag or else from the weight file the model starts from, and the
// data sets with that preprocessing applied.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openH5, type H5Dataset, type H5File } from '../formats/h5.js';
import { FORMAT_NAMES, isTlCheckpoint, type WeightFile } from '../formats/index.js';
import { readCheckpointHeader, type InputInfo } from '../models/checkpoint.js';
import type { ChannelOrder } from '../data/image.js';
import { assumedChannels, PREPROCESS_DESCRIPTIONS, PreprocessedIterator, type PreprocessName, type PreprocessSpec } from '../data/preprocess.js';
import { readWeights } from '../transfer/read.js';
import { checkFile } from '../formats/io.js';
import { TlError } from '../util/errors.js';
import { countNonFinite, describeNonFinite } from '../util/finite.js';
import { loadDataSets, loadTestSet, type DataOptions, type DataSets } from './data.js';
import { shareablePath } from './format.js';
import type { DataIterator } from '../data/iterator.js';

export interface PreprocessChoice {
  name: PreprocessName;
  /** Why, for the user: "from the PyTorch weight file". */
  why: string;
  /** The line the commands print. */
  line: string;
}

/** True when a file's layers carry torchvision's names (features.N, classifier.N). */
function hasTorchvisionNames(file: WeightFile): boolean {
  return file.layers.some((l) => /^(features|classifier)\.\d+$/.test(l.name));
}

/** What a weight file's weights expect, by its format (checkpoints: see fromCheckpoint). */
function expectedByWeights(file: WeightFile): { name: PreprocessName; why: string } {
  switch (file.format) {
    case FORMAT_NAMES.neon: return { name: 'neon', why: 'from the neon weight file' };
    case FORMAT_NAMES.keras: return { name: 'caffe', why: 'from the Keras weight file' };
    case FORMAT_NAMES.torch: return { name: 'torchvision', why: 'from the PyTorch weight file' };
    case FORMAT_NAMES.safetensors:
      return hasTorchvisionNames(file)
        ? { name: 'torchvision', why: 'from the safetensors file with torchvision names' }
        : { name: 'neon', why: 'from the safetensors file, which has no torchvision names' };
    default: return { name: 'neon', why: `from the ${file.format} file` };
  }
}

/** What a tl-scratch checkpoint's model was trained with: stored, or neon for older checkpoints. */
function expectedByCheckpoint(info: InputInfo | null): { name: PreprocessName; why: string } {
  if (!info) return { name: 'neon', why: 'the checkpoint predates recorded preprocessing: neon' };
  return { name: info.preprocess as PreprocessName, why: 'as stored in the checkpoint' };
}

/**
 * The run's preprocessing: the flag, else what `path` (the weight file the model starts
 * from; `file` if already read) expects, else neon.
 */
export async function choosePreprocess(flag: PreprocessName | undefined, path?: string, file?: WeightFile, what = 'weight file'): Promise<PreprocessChoice> {
  let c: { name: PreprocessName; why: string };
  if (path && !file) checkFile(path, what);
  if (flag) c = { name: flag, why: 'set with --preprocess' };
  else if (!path) c = { name: 'neon', why: 'no weight file to start from' };
  else if (file?.format === FORMAT_NAMES.checkpoint || (!file && (await isTlCheckpoint(path)))) c = expectedByCheckpoint((await readCheckpointHeader(path)).info);
  else c = expectedByWeights(file ?? (await readWeights(path)));
  const line = `preprocess: ${c.name} (${c.why}${flag ? '' : '; override with --preprocess'})`;
  return { ...c, line };
}

/** inspect's line on what input a weight file expects. */
export async function inspectPreprocessLine(path: string, file: WeightFile): Promise<string> {
  const c = file.format === FORMAT_NAMES.checkpoint ? expectedByCheckpoint((await readCheckpointHeader(path)).info) : expectedByWeights(file);
  return `expects input: ${c.name} preprocessing (${c.why}): ${PREPROCESS_DESCRIPTIONS[c.name]}; train, eval and predict use it unless --preprocess says otherwise`;
}

/** channel_order, class_names and mean of a neon-format file (those it has). */
export async function readDataFileInfo(path: string): Promise<{ channels: ChannelOrder; channelsRecorded: boolean; classNames?: string[]; mean: Float32Array | null; lshape?: number[] }> {
  const f: H5File = await openH5(path, 'r', 'data file');
  try {
    const input = f.get('input') as H5Dataset | null;
    const lshape = input?.attrs['lshape'] ? Array.from(input.attrs['lshape'].value as ArrayLike<number>, Number) : undefined;
    const recorded = input?.attrs['channel_order']?.value;
    const channels = (typeof recorded === 'string' && ['rgb', 'bgr', 'gray'].includes(recorded) ? recorded : assumedChannels(lshape?.[0] ?? 3)) as ChannelOrder;
    const output = f.get('output') as H5Dataset | null;
    const cn = output?.attrs['class_names']?.value;
    const classNames = Array.isArray(cn) ? cn.map(String) : typeof cn === 'string' ? [cn] : undefined;
    const m = f.keys().includes('mean') ? (f.get('mean') as H5Dataset).value : null;
    const mean = m && ArrayBuffer.isView(m) ? Float32Array.from(m as unknown as ArrayLike<number>) : null;
    const bad = mean && countNonFinite(mean);
    if (bad) throw new TlError(`${path}: 'mean' has ${describeNonFinite(bad)} (first at value ${bad.first} of ${mean!.length}); the mean must be finite: re-create the file with 'tl-scratch prepare'`);
    return { channels, channelsRecorded: typeof recorded === 'string', classNames, mean, lshape };
  } catch (e) {
    if (e instanceof TlError) throw e;
    throw new TlError(`${path}: cannot read (${(e as Error).message}); the file may be truncated or damaged`);
  } finally {
    f.close();
  }
}

export interface InputSets {
  data: DataSets;
  spec: PreprocessSpec;
  /** What checkpoints record (without the model flags). */
  info: InputInfo;
}

/** loadDataSets with `preprocess` applied to every batch (neon: the iterators as they always were). */
export async function loadInputSets(o: DataOptions, preprocess: PreprocessName): Promise<InputSets> {
  const raw = preprocess !== 'neon';
  const data = await loadDataSets({ ...o, rawPixels: raw });
  // the data's mean is recorded whenever known (a built-in set's is computed only for neon),
  // so that predict can also run the model with --preprocess neon
  let channels: ChannelOrder, mean: Float32Array | null, classNames: string[] | undefined;
  if (data.builtin) {
    channels = 'gray';
    mean = raw ? null : Float32Array.of(data.builtin.mean);
    classNames = data.builtin.classNames;
  } else {
    const trainPath = join(o.dataRoot, 'train.h5');
    const d = await readDataFileInfo(existsSync(trainPath) ? trainPath : join(o.dataRoot, 'test.h5'));
    channels = d.channels;
    mean = d.mean;
    classNames = d.classNames;
    // neon: a test.h5 without a mean of its own is centred with the training data's mean (the
    // model learned on centred inputs), as eval centres it with the checkpoint's record
    if (!raw && mean && !(await readDataFileInfo(join(o.dataRoot, 'test.h5'))).mean) {
      data.test = new PreprocessedIterator(data.test, { name: 'neon', channels, mean: checkedMean(mean, data.test.lshape, trainPath) }, join(o.dataRoot, 'test.h5'));
    }
  }
  const spec: PreprocessSpec = { name: preprocess, channels, mean: raw ? null : mean };
  if (raw) {
    data.train = new PreprocessedIterator(data.train, spec, `${o.dataRoot}`);
    data.test = new PreprocessedIterator(data.test, spec, `${o.dataRoot}`);
  }
  return { data, spec, info: { preprocess, channels, mean, classNames } };
}

/**
 * A resumed run on data whose mean differs from the one its checkpoint records: the model
 * learned on inputs centred with the recorded mean, so both sets are centred with it (the
 * neon iterators subtract the data's own; the difference is subtracted on top). Returns the
 * line that says so, or undefined when the means agree.
 */
export function recenterOnRecordedMean(input: InputSets, recorded: Float32Array, from: string): string | undefined {
  const own = input.info.mean;
  if (own && own.length === recorded.length && own.every((v, i) => v === recorded[i])) return undefined;
  const lshape = input.data.train.lshape;
  checkedMean(recorded, lshape, from);
  if (own && own.length !== recorded.length) throw new TlError(`${from}: records a mean of ${recorded.length} values but the data's has ${own.length}; resume on data prepared as the checkpoint's was, or train a new model`);
  const delta = Float32Array.from(recorded, (v, i) => v - (own ? own[i]! : 0));
  const spec: PreprocessSpec = { name: 'neon', channels: input.spec.channels, mean: delta };
  input.data.train = new PreprocessedIterator(input.data.train, spec, 'training data');
  input.data.test = new PreprocessedIterator(input.data.test, spec, 'test data');
  input.info = { ...input.info, mean: recorded };
  const shown = (m: Float32Array | null) => (!m ? 'none' : m.length <= 3 ? Array.from(m, (v) => Number(v.toFixed(2))).join(', ') : `${m.length} values`);
  return `mean: the data's (${shown(own)}) differs from the training mean recorded in ${from} (${shown(recorded)}); subtracting the recorded one, as the model was trained`;
}

/** A recorded mean checked against the data's shape: C or C·H·W values. */
function checkedMean(mean: Float32Array, lshape: readonly [number, number, number], where: string): Float32Array {
  const [C, H, W] = lshape;
  if (mean.length !== C && mean.length !== C * H * W) {
    throw new TlError(`${where}: its mean has ${mean.length} values, but the test data's shape (${lshape.join(', ')}) needs ${C} or ${C * H * W}`);
  }
  return mean;
}

/**
 * The test set alone (eval) with `preprocess` applied: DIR/test.h5 or a built-in test split;
 * no train.h5 needed. neon subtracts test.h5's own `mean`, or, when the file has none,
 * `fallback.mean` (the training data's mean a checkpoint records); `meanLine` then says so.
 */
export async function loadInputTestSet(
  o: { dataRoot: string; batchSize: number },
  preprocess: PreprocessName,
  fallback?: { mean: Float32Array | null; from: string },
): Promise<{ test: DataIterator; description: string; meanLine?: string }> {
  const builtin = o.dataRoot.startsWith('builtin:');
  if (preprocess === 'neon') {
    const t = await loadTestSet(o);
    if (builtin || !fallback?.mean) return t;
    const path = join(o.dataRoot, 'test.h5');
    const info = await readDataFileInfo(path);
    if (info.mean) return t;
    const mean = checkedMean(fallback.mean, t.test.lshape, fallback.from);
    const shown = mean.length <= 3 ? Array.from(mean, (v) => Number(v.toFixed(2))).join(', ') : `${mean.length} values`;
    return {
      test: new PreprocessedIterator(t.test, { name: 'neon', channels: info.channels, mean }, path),
      description: t.description,
      meanLine: `mean: ${shareablePath(path)} has none; subtracting the training data's mean recorded in ${fallback.from} (${shown})`,
    };
  }
  const t = await loadTestSet({ ...o, rawPixels: true });
  const channels: ChannelOrder = builtin ? 'gray' : (await readDataFileInfo(join(o.dataRoot, 'test.h5'))).channels;
  const spec: PreprocessSpec = { name: preprocess, channels, mean: null };
  return { test: new PreprocessedIterator(t.test, spec, o.dataRoot), description: t.description };
}
