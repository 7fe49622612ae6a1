// What `train --model_file CK` takes from a checkpoint train wrote, so that a run resumes from
// the checkpoint alone (as Keras' initial_epoch or Lightning's ckpt_path): the model flags,
// the experiment, the layers imported from the source model (the optimizer's per-layer
// mapping: imported layers train at lr × imported_lr_scale), the optimizer settings and the
// training data's mean. Flags typed on the command line win; one that cannot fit the
// checkpoint is a one-line usage error.
import { existsSync } from 'node:fs';
import { isTlCheckpoint } from '../formats/index.js';
import { readCheckpointHeader, readCheckpointOptimizer, type InputInfo } from '../models/checkpoint.js';
import type { ExperimentName } from '../transfer/experiment.js';
import { TlError, UsageError } from '../util/errors.js';
import { withStoredModelFlags, type ModelFlags } from './model-options.js';

/** What train records of its run in a checkpoint (InputInfo.training). */
export interface TrainingRecord {
  experiment: ExperimentName;
  /** Model layers imported from the source model (trained at lr × importedLrScale). */
  imported: string[];
  /** The imported layers' learning-rate factor, as applied (the experiment's default resolved). */
  importedLrScale: number;
  lr: number;
  momentum: number;
  wdecay: number;
  /** The source model's path as given, for the user. */
  sourceModel?: string;
}

/** The optimizer settings a run may take from its checkpoint, with their flags. */
const TRAINING_FLAGS = { lr: '--lr', momentum: '--momentum', wdecay: '--wdecay', importedLrScale: '--imported_lr_scale' } as const;
export type TrainingFlag = keyof typeof TRAINING_FLAGS;

const MODEL_FLAG_NAMES: Record<keyof ModelFlags, string> = { model: '--model', widthMult: '--width_mult', fcSize: '--fc_size', dropoutKeep: '--dropout_keep' };

export interface ResumeFlags extends ModelFlags {
  modelFile?: string;
  sourceModel?: string;
  experiment?: ExperimentName | 'all';
  lr: number;
  momentum: number;
  wdecay: number;
  importedLrScale?: number;
  explicit?: ReadonlySet<keyof ModelFlags>;
  /** Optimizer flags typed on the command line. */
  explicitTraining?: ReadonlySet<TrainingFlag>;
}

export interface Resume {
  /** The flags with the checkpoint's filled in where none was typed. */
  flags: ResumeFlags;
  /** The record, when the checkpoint has one. */
  training?: TrainingRecord;
  /** The checkpoint's input facts (preprocessing, mean), when it records them. */
  info: InputInfo | null;
  /** Lines for the user: what was taken from the checkpoint, and typed flags that differ. */
  lines: string[];
}

function isRecord(t: unknown): t is TrainingRecord {
  const r = t as TrainingRecord;
  return !!r && typeof r === 'object' && typeof r.experiment === 'string' && Array.isArray(r.imported) && typeof r.lr === 'number';
}

/** True when a checkpoint's optimizer trained some layers at a rate of their own (a MultiOptimizer with more keys than 'default'). */
async function hasPerLayerRates(path: string): Promise<boolean> {
  const d = await readCheckpointOptimizer(path);
  const mapping = d?.type === 'MultiOptimizer' ? (d.mapping as Record<string, unknown> | undefined) : undefined;
  return !!mapping && Object.keys(mapping).some((k) => k !== 'default');
}

/** The run's flags when --model_file is a tl-scratch checkpoint; the flags as they are otherwise. */
export async function resumeFrom<F extends ResumeFlags>(f: F): Promise<Resume & { flags: F }> {
  const none = { flags: f, info: null, lines: [] };
  if (!f.modelFile || !existsSync(f.modelFile) || !(await isTlCheckpoint(f.modelFile))) return none;
  const ck = f.modelFile;
  const info = (await readCheckpointHeader(ck)).info;
  const lines: string[] = [];
  const explicit = f.explicit ?? new Set();
  const stored = info?.model as Partial<ModelFlags> | undefined;
  for (const k of ['model', 'widthMult', 'fcSize'] as const) {
    if (explicit.has(k) && stored?.[k] !== undefined && stored[k] !== f[k]) {
      throw new UsageError(`${MODEL_FLAG_NAMES[k]} ${f[k]} differs from the ${MODEL_FLAG_NAMES[k]} ${stored[k]} recorded in ${ck}; leave ${MODEL_FLAG_NAMES[k]} out to resume with the recorded one`);
    }
  }
  const flags: F = { ...f, ...withStoredModelFlags(f, stored, explicit) };
  const training = isRecord(info?.training) ? info.training : undefined;
  if (!training) {
    // older checkpoints do not say which layers were imported: the source model must
    if (!f.sourceModel && (await hasPerLayerRates(ck))) {
      throw new UsageError(`${ck} does not record which layers its run imported (written by an older tl-scratch); add --source_model FILE and --experiment finetune or extract, as it was trained`);
    }
    return { flags, info, lines };
  }
  if (f.experiment !== undefined && f.experiment !== training.experiment) {
    throw new UsageError(`--experiment ${f.experiment} differs from the --experiment ${training.experiment} recorded in ${ck}; leave --experiment out to resume with the recorded one`);
  }
  flags.experiment = training.experiment;
  const typed = f.explicitTraining ?? new Set();
  for (const k of Object.keys(TRAINING_FLAGS) as TrainingFlag[]) {
    const rec = training[k];
    if (typeof rec !== 'number') continue;
    if (!typed.has(k)) flags[k] = rec;
    else if (f[k] !== rec) lines.push(`note: ${TRAINING_FLAGS[k]} ${f[k]} as typed; ${ck} was trained with ${TRAINING_FLAGS[k]} ${rec}`);
  }
  if (training.experiment !== 'scratch' && !f.sourceModel && !training.imported.length) {
    throw new TlError(`${ck}: records --experiment ${training.experiment} with no imported layers; the file is damaged, pass --source_model as it was trained`);
  }
  const from = training.experiment === 'scratch' ? '' : `, ${training.imported.length} layers imported${training.sourceModel ? ` from ${training.sourceModel}` : ''} at --imported_lr_scale ${flags.importedLrScale}`;
  lines.unshift(`resume: --experiment ${training.experiment}${from}, --lr ${flags.lr}, as recorded in ${ck}; typed flags override`);
  return { flags, training, info, lines };
}
