// eval, summary, inspect and prepare: the small subcommands.
import { statSync } from 'node:fs';
import { extname, isAbsolute, relative } from 'node:path';
import { checkExportFormat, checkWritable, exportModel, matchVgg16, modelFromCheckpoint } from '../export/index.js';
import { isTlCheckpoint } from '../formats/index.js';
import { prepare, type PrepareOptions, type PrepareProgress } from '../data/prepare/index.js';
import type { WeightFile } from '../formats/types.js';
import { formatSummary } from '../models/summary.js';
import { generateVgg16, generateVgg16TransferModel } from '../models/vgg16.js';
import { labName } from '../transfer/aliases.js';
import { readWeights } from '../transfer/read.js';
import { checkFile } from '../formats/io.js';
import { TlError, UsageError } from '../util/errors.js';
import type { PreprocessName } from '../data/preprocess.js';
import { choosePreprocess, inspectPreprocessLine, loadInputTestSet } from './input.js';
import { checkDataFolder } from './data.js';
import { pct } from './format.js';
import { CountProgress } from './progress.js';
import { testPass, writeTestPass } from './inference.js';
import { buildModel, loadModelFile, withStoredModelFlags, type ModelFlags } from './model-options.js';
import { readCheckpointHeader } from '../models/checkpoint.js';
import { checkBackend } from './train.js';
import { isImageFolder, preparedImageFolder } from './image-folder-data.js';
import type { ChannelOrder } from '../data/image.js';

export interface EvalFlags extends ModelFlags {
  backend: string;
  modelFile: string;
  dataRoot: string;
  batchSize: number;
  inferenceFile: string;
  match: 'name' | 'order';
  /** Show the test pass's progress (default true). */
  progressBar?: boolean;
  preprocess?: PreprocessName;
  /** Model flags typed on the command line; the others come from the checkpoint's record when it has one. */
  explicit?: ReadonlySet<keyof ModelFlags>;
}

export async function evalCommand(f: EvalFlags): Promise<number> {
  checkBackend(f.backend);
  if (!f.modelFile) throw new UsageError('eval needs --model_file (a checkpoint written by train, or any importable weight file holding the whole model)');
  checkFile(f.modelFile, '--model_file');
  if (isImageFolder(f.dataRoot)) {
    // the folder's test split, prepared at the size and channels the checkpoint was trained on
    const header = (await isTlCheckpoint(f.modelFile)) ? await readCheckpointHeader(f.modelFile) : null;
    const channels = header?.info?.channels as ChannelOrder | undefined;
    f = { ...f, dataRoot: await preparedImageFolder(f.dataRoot, { size: header?.inputShape[1], channels, progress: f.progressBar !== false, log: (l) => console.log(l) }) };
  }
  if (!f.dataRoot.startsWith('builtin:')) checkDataFolder(f.dataRoot, ['test.h5']);
  checkWritable(f.inferenceFile, '--inference_file');
  const pre = await choosePreprocess(f.preprocess, f.modelFile, undefined, '--model_file');
  // a checkpoint records the training data's mean and the model flags it was trained with
  const info = (await isTlCheckpoint(f.modelFile)) ? (await readCheckpointHeader(f.modelFile)).info : null;
  const data = await loadInputTestSet({ dataRoot: f.dataRoot, batchSize: f.batchSize }, pre.name, { mean: info?.mean ?? null, from: f.modelFile });
  console.log(`data: ${data.description}`);
  console.log(pre.line);
  if (data.meanLine) console.log(data.meanLine);
  const model = buildModel(withStoredModelFlags(f, info?.model, f.explicit ?? new Set()), data.test.nclass);
  model.initialize(data.test.lshape);
  await loadModelFile(model, f.modelFile, { resume: false, match: f.match, log: (l) => console.log(l) });
  // One pass over the test set gives both the accuracy and the inference file.
  const pass = testPass(model, data.test, f.progressBar === false ? undefined : { label: 'test' });
  console.log(`Accuracy = ${pct(pass.accuracy)}`);
  const n = writeTestPass(f.inferenceFile, pass);
  console.log(`inference: ${n} test outputs written to ${f.inferenceFile}`);
  data.test.close();
  return 0;
}

export interface SummaryFlags extends ModelFlags {
  imageSize: number;
  channels: number;
  nclass: number;
  batchSize: number;
}

export function summaryCommand(f: SummaryFlags): number {
  const model = buildModel(f, f.nclass);
  model.initialize([f.channels, f.imageSize, f.imageSize]);
  process.stdout.write(formatSummary(model));
  const gflops = model.describeLayers().reduce((s, d) => s + d.flops, 0) / 1e9;
  console.log(`per minibatch of ${f.batchSize}: ${(gflops * f.batchSize).toFixed(2)} GFLOP forward, about ${(3 * gflops * f.batchSize).toFixed(2)} GFLOP for a training step`);
  return 0;
}

/** Where each array of a weight file goes in the two VGG-16 models, or why nowhere. */
function mapping(file: WeightFile): string[] {
  const transfer = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
  const full = generateVgg16({ widthMult: 1, fcSize: 4096 });
  const inTransfer = new Set(transfer.layers.map((l) => l.name));
  const inFull = new Set(full.layers.map((l) => l.name));
  const lines: string[] = [];
  for (const l of file.layers) {
    const lab = labName(l.name);
    for (const a of l.params) {
      const target = l.kind === 'bias' ? lab : a.name === 'b' ? `${lab}_bias` : lab;
      const param = l.kind === 'bias' || a.name === 'b' ? 'b' : a.name === 'W' ? 'W' : a.name;
      const shape = `(${a.shape.join(', ')})`;
      let where: string;
      if (param !== 'W' && param !== 'b') where = `not a weight or bias ('${a.name}'): not used`;
      else if (inTransfer.has(target) && inFull.has(target)) where = `${target}.${param} in vgg16 and vgg16_transfer`;
      else if (inFull.has(target)) where = `${target}.${param} in vgg16 only (vgg16_transfer has a new head: fc6_new, fc7_new, cls_imdb_wiki_face)`;
      else if (inTransfer.has(target)) where = `${target}.${param} in vgg16_transfer only`;
      else where = `no layer named '${target}' in either model${lab === l.name ? '' : ` (alias of '${l.name}')`}; --match order may pair it`;
      lines.push(`  ${`${l.name} ${a.name}`.padEnd(28)} ${shape.padEnd(22)} ${a.dtype.padEnd(8)} → ${where}`);
    }
  }
  return lines;
}

export async function inspectCommand(path: string): Promise<number> {
  const file = await readWeights(path);
  console.log(`${path}: ${file.format}`);
  for (const n of file.notes) console.log(`note: ${n}`);
  console.log(await inspectPreprocessLine(path, file));
  console.log(`\narrays as stored (${file.arrays.length}):`);
  for (const a of file.arrays) console.log(`  ${a.name.padEnd(40)} (${a.shape.join(', ')})  ${a.dtype}`);
  console.log(`\nlayers with weights, converted to tl-scratch's layout (conv [K, C, R, S], dense [out, in]), and where they go:`);
  for (const l of mapping(file)) console.log(l);
  return 0;
}

/** Skipped files named on the terminal; the rest are in the output folder's skipped.txt. */
const SKIPPED_SHOWN = 20;

/** A path relative to the working directory when inside it, else as it is. */
function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

/** 75 → "1m15s", 3725 → "1h02m". */
function formatSeconds(s: number): string {
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export async function prepareCommand(o: PrepareOptions, progress: boolean): Promise<number> {
  const sources = [o.imageFolder, o.imdbWiki, o.builtin].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new UsageError('prepare needs exactly one source: --image_folder DIR, --imdb_wiki DIR or --builtin NAME');
  // A bar on a terminal; elsewhere (a pipe, a log file) a plain line every few seconds and at the end.
  const bar = progress ? new CountProgress('prepare', 'images') : undefined;
  const start = Date.now();
  // the rate of this run: images a stopped run had prepared are not counted in it
  const note = (p: PrepareProgress) => {
    const s = (Date.now() - start) / 1000;
    const rate = s > 0 ? (p.done - p.resumed) / s : 0;
    const eta = rate > 0 && p.done < p.total ? `, ETA ${formatSeconds((p.total - p.done) / rate)}` : '';
    return `${rate.toFixed(1)} img/s${eta}${p.resumed ? `, ${p.resumed} from the stopped run` : ''}${p.skipped ? `, ${p.skipped} skipped` : ''}`;
  };
  const report = await prepare({
    ...o,
    onProgress: bar && ((p) => bar.update(p.done, p.total, note(p))),
    onNote: (m) => console.error(m),
  });
  // the count the progress reached is the count the summary gives; what was not read is said apart
  const limited = report.considered - report.skippedBeforeReading - report.read;
  const unit = report.source === 'image-folder' ? 'files' : report.source === 'imdb-wiki' ? 'rows' : 'examples';
  const apart = [report.skippedBeforeReading ? `${report.skippedBeforeReading} skipped before reading` : '', limited ? `${limited} left out by --max_images` : ''].filter(Boolean);
  if (report.resumed) console.log(`continued a stopped run: ${report.resumed} images were prepared before`);
  console.log(`prepared ${report.kept} of ${report.read} images from ${report.source}${apart.length ? ` (${report.considered} ${unit} examined: ${apart.join(', ')})` : ''}`);
  for (const [reason, n] of Object.entries(report.skipped)) if (n) console.log(`  skipped ${n}: ${reason}`);
  for (const s of report.skippedItems.slice(0, SKIPPED_SHOWN)) {
    const detail = s.detail.startsWith(`${s.item}: `) ? s.detail.slice(s.item.length + 2) : s.detail;
    console.log(`    ${shownPath(s.item)}: ${s.reason}${detail ? ` (${detail})` : ''}`);
  }
  if (report.skippedItems.length > SKIPPED_SHOWN) console.log(`    ... and ${report.skippedItems.length - SKIPPED_SHOWN} more`);
  if (report.skippedFile) console.log(`  every skipped file with its reason: ${shownPath(report.skippedFile)}`);
  console.log(`  ${report.train.path}: ${report.train.count} examples (${report.train.perClass.join(' / ')} per class)`);
  console.log(`  ${report.test.path}: ${report.test.count} examples (${report.test.perClass.join(' / ')} per class)`);
  console.log(`  classes: ${report.classNames.join(', ')}; shape (${report.lshape.join(', ')}), ${report.channels}`);
  return 0;
}

export interface ExportFlags extends ModelFlags {
  modelFile: string;
  /** undefined: from --out's extension. */
  format?: string;
  out: string;
  /** For weight files other than checkpoints: the input the model is built for. */
  imageSize: number;
  /** --image_size was typed; otherwise it is read from the weights when they say it. */
  imageSizeGiven?: boolean;
  channels: number;
  nclass: number;
}

/** True when both paths name one existing file (also through a link). */
function sameFile(a: string, b: string): boolean {
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * export: a checkpoint is rebuilt from the layer list it stores (no model flags needed);
 * any other importable weight file is loaded into the model the flags describe. Every
 * check (format, output folder, layers the format can express) comes before the write.
 */
/** The export format --out's extension names (.onnx, .safetensors), or a usage error. */
function formatFromOut(out: string): string {
  const ext = extname(out).toLowerCase();
  const byExt: Record<string, string> = { '.onnx': 'onnx', '.safetensors': 'safetensors' };
  if (byExt[ext]) return byExt[ext];
  throw new UsageError(`export: --out ${out} does not say the format (${ext ? `extension '${ext}'` : 'no extension'}); name the file .safetensors or .onnx, or pass --format safetensors or --format onnx`);
}

/**
 * The square input a VGG-16's weights were trained at, when they say it: the first dense
 * layer takes C·(H/32)·(W/32) values, C the last conv's output channels (five 2×2 pools).
 */
function imageSizeFromWeights(file: WeightFile): { size: number; line: string } | undefined {
  // VGG-16's names (through the alias table: Keras, torchvision), else the file's order
  let dense = file.layers.findIndex((l) => l.kind === 'linear' && ['fc6', 'fc6_new'].includes(labName(l.name)));
  let conv = file.layers.find((l) => l.kind === 'conv' && labName(l.name) === 'conv5_3');
  if (dense < 0 || !conv) {
    dense = file.layers.findIndex((l) => l.kind === 'linear');
    if (dense < 0) return undefined;
    conv = file.layers.slice(0, dense).reverse().find((l) => l.kind === 'conv');
  }
  const W = file.layers[dense]!.params.find((a) => a.name === 'W');
  const K = conv?.params.find((a) => a.name === 'W')?.shape[0];
  if (!W || W.shape.length !== 2 || !K) return undefined;
  const inputs = W.shape[1]!;
  const side = Math.round(Math.sqrt(inputs / K));
  if (side < 1 || side * side * K !== inputs) return undefined;
  const size = 32 * side;
  return { size, line: `input: ${size}×${size}, from the weights (${file.layers[dense]!.name} takes ${inputs} = ${K}·${side}·${side} values after ${conv!.name}); --image_size overrides` };
}

export async function exportCommand(f: ExportFlags): Promise<number> {
  const format = checkExportFormat(f.format ?? formatFromOut(f.out));
  checkWritable(f.out);
  checkFile(f.modelFile, '--model_file');
  if (sameFile(f.out, f.modelFile)) throw new TlError(`--out ${f.out}: is the --model_file; the export would replace the model it reads, give another file name`);
  let model;
  if (await isTlCheckpoint(f.modelFile)) {
    model = await modelFromCheckpoint(f.modelFile);
    console.log(`model: ${model.layers.length} layers rebuilt from the checkpoint ${f.modelFile}, input (${model.inShape!.join(', ')})`);
  } else {
    const file = await readWeights(f.modelFile);
    let size = f.imageSize;
    const inferred = f.imageSizeGiven ? undefined : imageSizeFromWeights(file);
    if (inferred) {
      size = inferred.size;
      console.log(inferred.line);
    }
    model = buildModel(f, f.nclass);
    model.initialize([f.channels, size, size]);
    try {
      await loadModelFile(model, f.modelFile, { resume: false, log: (l) => console.log(l), file });
    } catch (e) {
      // a shape that differs: the model flags, or the input size the first dense layer depends on
      if (e instanceof TlError && / in the model but .* in the file /.test(e.message)) {
        throw new TlError(`${e.message.replace(/(in the file \('[^']*'\));.*$/, '$1')}; the model was built for ${size}×${size} input${f.imageSizeGiven ? ' (--image_size)' : ''}: give the size the weights were trained at with --image_size, and check --width_mult and --fc_size`, e.exitCode);
      }
      throw e;
    }
  }
  const bytes = exportModel(model, f.out, format);
  const layout = format === 'onnx' ? `ONNX opset 13, input 'input' [N, ${model.inShape!.join(', ')}], output 'output'`
    : matchVgg16(model) ? "torchvision's VGG-16 names (features.N, classifier.N), dense weights after dropout scaled by keep" : "tl-scratch's layer names";
  console.log(`exported ${f.out} (${format}, ${(bytes / 1e6).toFixed(2)} MB): ${layout}`);
  return 0;
}
