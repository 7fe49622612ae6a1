// `tl-scratch predict IMAGE|DIR ... --model_file CKPT`: class probabilities for JPEG/PNG
// images, made exactly as `prepare` makes rows (decode, resize the short side, center-crop,
// channel order) and preprocessed as the checkpoint's model was trained (src/data/preprocess.ts).
// Printed as a table, or written as CSV or JSON with -o (atomically).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { decodeImage, resizeToRow, type ChannelOrder } from '../data/image.js';
import { loadWasmJpegDecoder } from '../data/jpeg-wasm.js';
import { ArrayIterator } from '../data/iterator.js';
import { assumedChannels, preprocessRows, type PreprocessName, type PreprocessSpec } from '../data/preprocess.js';
import { isTlCheckpoint } from '../formats/index.js';
import { readCheckpointHeader } from '../models/checkpoint.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { checkFile } from '../formats/io.js';
import { TlError, UsageError } from '../util/errors.js';
import { choosePreprocess, readDataFileInfo } from './input.js';
import { buildModel, withStoredModelFlags, type ModelFlags } from './model-options.js';
import { checkBackend } from './train.js';
import { checkFiniteOutputs } from './inference.js';
import { checkWritable } from '../export/index.js';

export interface PredictFlags extends ModelFlags {
  backend: string;
  inputs: string[];
  modelFile: string;
  outputFile?: string;
  preprocess?: PreprocessName;
  dataRoot?: string;
  batchSize: number;
  /** Model flags typed on the command line; the others come from the checkpoint's record when it has one. */
  explicit: ReadonlySet<keyof ModelFlags>;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);

export interface Prediction {
  file: string;
  predicted: number;
  probabilities: number[];
}

/** The image files named by `inputs`: files as given, folders walked (sorted, hidden entries skipped). */
function collectImages(inputs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (IMAGE_EXT.has(extname(e.name).toLowerCase())) files.push(p);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) throw new TlError(`predict: ${input}: no such file or folder`);
    if (statSync(input).isDirectory()) {
      const before = files.length;
      walk(input);
      if (files.length === before) throw new TlError(`predict: folder ${input} holds no .jpg, .jpeg or .png images`);
    } else files.push(input);
  }
  return files;
}

function outputKind(path: string | undefined): 'csv' | 'json' | undefined {
  if (path === undefined) return undefined;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new UsageError(`-o ${path}: the format comes from the extension; use a .csv or .json file name`);
}

const fmt = (v: number): number => Number(v.toPrecision(8));

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatCsv(preds: Prediction[], classes: string[]): string {
  const lines = [['file', 'predicted', 'predicted_index', ...classes.map((c) => `p_${c}`)].map(csvField).join(',')];
  for (const p of preds) lines.push([csvField(p.file), csvField(classes[p.predicted]!), String(p.predicted), ...p.probabilities.map((v) => String(fmt(v)))].join(','));
  return lines.join('\n') + '\n';
}

function formatTable(preds: Prediction[], classes: string[]): string {
  const fw = Math.max(4, ...preds.map((p) => p.file.length));
  const cw = Math.max(9, ...classes.map((c) => c.length));
  const pw = Math.max(8, ...classes.map((c) => c.length + 3));
  const head = `${'file'.padEnd(fw)}  ${'predicted'.padEnd(cw)}  ${classes.map((c) => `p(${c})`.padStart(pw)).join('  ')}`;
  const rows = preds.map((p) => `${p.file.padEnd(fw)}  ${classes[p.predicted]!.padEnd(cw)}  ${p.probabilities.map((v) => v.toFixed(4).padStart(pw)).join('  ')}`);
  return [head, ...rows].join('\n') + '\n';
}

export async function predictCommand(f: PredictFlags): Promise<number> {
  checkBackend(f.backend);
  const kind = outputKind(f.outputFile);
  if (f.outputFile) checkWritable(f.outputFile, '-o');
  if (!f.inputs.length) throw new UsageError('predict needs at least one IMAGE or DIR');
  checkFile(f.modelFile, '--model_file');
  if (!(await isTlCheckpoint(f.modelFile))) {
    throw new UsageError(`--model_file ${f.modelFile}: predict needs a tl-scratch checkpoint (train --save_path FILE writes one): it records the input size, channels, preprocessing and classes`);
  }
  const header = await readCheckpointHeader(f.modelFile);
  const lshape = header.inputShape as [number, number, number];
  if (lshape.length !== 3) throw new TlError(`--model_file ${f.modelFile}: the checkpoint records no input shape (C, H, W); it is damaged or not from train`);
  const [C, H, W] = lshape;
  if (H !== W) throw new TlError(`--model_file ${f.modelFile}: input ${H}x${W} is not square; predict crops square images as prepare does`);
  if (!header.nout) throw new TlError(`--model_file ${f.modelFile}: no layer with weights found to tell the number of classes`);
  const files = collectImages(f.inputs);

  const info = header.info;
  const data = f.dataRoot ? await readDataFileInfo(join(f.dataRoot, 'train.h5')) : undefined;
  const pre = await choosePreprocess(f.preprocess, f.modelFile, undefined, '--model_file');
  console.log(pre.line);
  let channels: ChannelOrder = (info?.channels as ChannelOrder | undefined) ?? data?.channels ?? assumedChannels(C);
  if (C === 1) channels = 'gray';
  else if (channels === 'gray') channels = 'rgb';
  const mean = pre.name === 'neon' ? (info?.mean ?? data?.mean ?? null) : null;
  if (pre.name === 'neon' && !mean) {
    throw new UsageError(`--model_file ${f.modelFile}: neon preprocessing subtracts the training data's mean, which this checkpoint does not record (an older tl-scratch, or a built-in set trained with another --preprocess); pass --data_root DIR holding the train.h5 it was trained on`);
  }
  if (mean && mean.length !== C && mean.length !== C * H * W) throw new TlError(`--model_file ${f.modelFile}: the recorded mean has ${mean.length} values; expected ${C} or ${C * H * W}`);
  const nclass = header.nout;
  const names = info?.classNames ?? data?.classNames;
  const classes = names && names.length === nclass ? names : Array.from({ length: nclass }, (_, i) => String(i));

  // rows as prepare writes them, then the model's preprocessing
  const F = C * H * W;
  const good: string[] = [];
  const skipped: { file: string; reason: string }[] = [];
  const rows: Uint8Array[] = [];
  // prepare's JPEG decoder, so that a file gives the row prepare would write; jpeg-js where it cannot load
  const jpeg = await loadWasmJpegDecoder().catch(() => undefined);
  for (const file of files) {
    try {
      let buf: Uint8Array;
      try {
        buf = readFileSync(file);
      } catch (e) {
        throw new TlError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      rows.push(resizeToRow(decodeImage(buf, file, jpeg), H, channels));
      good.push(file);
    } catch (e) {
      if (!(e instanceof TlError)) throw e;
      skipped.push({ file, reason: e.message });
    }
  }
  // one image that cannot be read: its reason is the one line; several: each listed, then the verdict
  if (!good.length && files.length === 1) throw new TlError(`predict: ${skipped[0]!.reason}; nothing written`);
  for (const s of skipped) process.stderr.write(`skipped: ${s.reason}\n`);
  if (!good.length) throw new TlError(`predict: none of the ${files.length} image(s) could be read (see the lines above); nothing written`);
  let x: Float32Array = new Float32Array(good.length * F);
  rows.forEach((r, i) => x.set(r, i * F));
  const spec: PreprocessSpec = { name: pre.name, channels, mean };
  x = preprocessRows(x, good.length, lshape, spec, f.modelFile);

  const model = buildModel(withStoredModelFlags(f, info?.model, f.explicit), nclass);
  model.initialize(lshape);
  await model.loadParams(f.modelFile, { loadStates: false });
  const set = new ArrayIterator({ x, lshape, bsz: Math.min(f.batchSize, good.length), name: 'images' });
  const out = model.getOutputs(set);
  const probs = out.data as Float32Array;
  const K = out.shape[1]!;
  checkFiniteOutputs(probs, K, 'image', f.outputFile, (i) => good[i]!);
  const preds: Prediction[] = good.map((file, i) => {
    const p = Array.from(probs.subarray(i * K, (i + 1) * K));
    let best = 0;
    for (let k = 1; k < K; k++) if (p[k]! > p[best]!) best = k;
    return { file, predicted: best, probabilities: p };
  });

  if (kind === 'csv') writeFileAtomicSync(f.outputFile!, formatCsv(preds, classes));
  else if (kind === 'json') {
    const json = {
      model_file: f.modelFile,
      preprocess: pre.name,
      classes,
      predictions: preds.map((p) => ({ file: p.file, predicted: classes[p.predicted], predicted_index: p.predicted, probabilities: p.probabilities.map(fmt) })),
      skipped,
    };
    writeFileAtomicSync(f.outputFile!, JSON.stringify(json, null, 2) + '\n');
  } else process.stdout.write(formatTable(preds, classes));
  if (kind) console.log(`predict: ${preds.length} image(s) written to ${f.outputFile}${skipped.length ? `; ${skipped.length} skipped` : ''}`);
  else if (skipped.length) console.log(`${skipped.length} image(s) skipped`);
  return 0;
}
