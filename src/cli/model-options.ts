// The model flags shared by train, eval and summary, and how weights given with
// --model_file are put into a model: a tl-scratch checkpoint resumes (weights, velocities,
// epoch, generator); any other importable file initializes the layers whose names match.
import { isTlCheckpoint } from '../formats/index.js';
import type { WeightFile } from '../formats/types.js';
import type { Model } from '../models/model.js';
import { generateVgg16, generateVgg16TransferModel } from '../models/vgg16.js';
import { importMatchingLayers } from '../transfer/import.js';
import { readWeights } from '../transfer/read.js';
import { UsageError } from '../util/errors.js';

export interface ModelFlags {
  model: 'vgg16_transfer' | 'vgg16';
  widthMult: number;
  fcSize: number;
  dropoutKeep: number;
}

/**
 * The model flags of a run on a checkpoint: each typed on the command line (`explicit`) as
 * typed, the others as the checkpoint records them (train stores them), else the defaults.
 */
export function withStoredModelFlags(f: ModelFlags, stored: Record<string, unknown> | undefined, explicit: ReadonlySet<keyof ModelFlags>): ModelFlags {
  const s = (stored ?? {}) as Partial<ModelFlags>;
  const pick = <K extends keyof ModelFlags>(k: K): ModelFlags[K] => (explicit.has(k) || s[k] === undefined ? f[k] : (s[k] as ModelFlags[K]));
  return { model: pick('model'), widthMult: pick('widthMult'), fcSize: pick('fcSize'), dropoutKeep: pick('dropoutKeep') };
}

export function buildModel(f: ModelFlags, nclass: number): Model {
  const opts = { nclass, widthMult: f.widthMult, fcSize: f.fcSize, dropoutKeep: f.dropoutKeep };
  if (f.model === 'vgg16') return generateVgg16(opts);
  if (f.model === 'vgg16_transfer') return generateVgg16TransferModel(opts);
  throw new UsageError(`unknown --model '${f.model as string}'; choose vgg16_transfer or vgg16`);
}

/** Load --model_file into an initialized model. Returns 'resumed' for a checkpoint with training state. */
export async function loadModelFile(model: Model, path: string, opts: { resume: boolean; match?: 'name' | 'order'; log: (l: string) => void; file?: WeightFile }): Promise<'resumed' | 'imported'> {
  if (!opts.file && (await isTlCheckpoint(path))) {
    await model.loadParams(path, { loadStates: opts.resume });
    return 'resumed';
  }
  const file = opts.file ?? (await readWeights(path));
  for (const n of file.notes) opts.log(`note: ${n}`);
  const report = importMatchingLayers(file, model, { match: opts.match, log: () => {} });
  if (report.notInSource.length) {
    throw new UsageError(`--model_file ${path} (${file.format}) has no weights for ${report.notInSource.length} layer(s) of the model: ${report.notInSource.slice(0, 6).join(', ')}${report.notInSource.length > 6 ? ', ...' : ''}; it must hold the whole model (use --source_model to import only matching layers)`);
  }
  opts.log(`initialized all ${report.imported.length} parameter layers from ${path} (${file.format})`);
  return 'imported';
}
