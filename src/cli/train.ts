// `tl-scratch train`: main_transfer.py of the lab, with neon's flags.
import { checkWritable } from '../export/index.js';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { WeightFile } from '../formats/types.js';
import { EveryNEpochs, type Callback } from '../models/callbacks.js';
import { Profile } from '../models/profile.js';
import type { Model } from '../models/model.js';
import { manualSeed } from '../tensor/random.js';
import { EXPERIMENTS, prepareExperiment, runExperiment, type EpochRecord, type ExperimentName } from '../transfer/experiment.js';
import { readWeights } from '../transfer/read.js';
import { UsageError } from '../util/errors.js';
import { setBackend } from '../kernels/index.js';
import { pct, shareablePath } from './format.js';
import { isTlCheckpoint } from '../formats/index.js';
import { readCheckpointOptimizer, setInputInfo } from '../models/checkpoint.js';
import { MultiOptimizer, type Optimizer } from '../optim/index.js';
import type { ScheduleDescription } from '../optim/schedule.js';
import { writeTestPass } from './inference.js';
import { parseScheduleSpec, sameSchedule, scheduleSpecOf } from './schedule-spec.js';
import type { PreprocessName } from '../data/preprocess.js';
import type { ChannelOrder } from '../data/image.js';
import { folderSettingsFrom, isImageFolder, preparedImageFolder } from './image-folder-data.js';
import { choosePreprocess, loadInputSets } from './input.js';
import { buildModel, loadModelFile, type ModelFlags } from './model-options.js';
import { resumeFrom, type TrainingFlag, type TrainingRecord } from './resume.js';
import { modelFlagsFromSource } from './source-flags.js';
import { recenterOnRecordedMean } from './input.js';
import { OutputFileCallback } from './output-file.js';
import { CountProgress, ProgressBarCallback, UniformCostWarning } from './progress.js';
import { comparisonTable, uniformCost, writeReport, type RunRecord } from './report.js';

export interface TrainFlags extends ModelFlags {
  backend: string;
  epochs: number;
  batchSize: number;
  rngSeed: number;
  dataRoot: string;
  sourceModel?: string;
  serialize: number;
  savePath?: string;
  /** Keep optimizer states (velocities) in checkpoints. */
  saveStates?: boolean;
  modelFile?: string;
  outputFile?: string;
  /** undefined: 0, or automatic with --experiment all (see evalFrequency). */
  evalFreq?: number;
  progressBar: boolean;
  verbose: number;
  experiment?: ExperimentName | 'all';
  lr: number;
  momentum: number;
  wdecay: number;
  importedLrScale?: number;
  inferenceFile: string;
  match: 'name' | 'order';
  trainPerClass?: number;
  reportDir: string;
  /** --schedule spec (see schedule-spec.ts); undefined: constant, or the checkpoint's when resuming. */
  schedule?: string;
  /** Cache the frozen layers' outputs (Model.featureCache; default true, --no_feature_cache: false). */
  featureCache?: boolean;
  /** Read HDF5 training batches ahead on a worker thread (default true; --no_prefetch: false). */
  prefetch?: boolean;
  /** --preprocess; default from the weight file the model starts from. */
  preprocess?: PreprocessName;
  /** Model flags typed on the command line; the others come from --model_file's record when it is a checkpoint, else from --source_model's weights. */
  explicit?: ReadonlySet<keyof ModelFlags>;
  /** Optimizer flags typed on the command line; the others come from --model_file's record when it is a checkpoint. */
  explicitTraining?: ReadonlySet<TrainingFlag>;
  /** --mismatch: a layer whose shape differs from the source's stops the run ('error') or keeps its initialization ('skip'). */
  mismatch?: 'error' | 'skip';
  /** --image_size, for an image-folder --data_root: the side its images are prepared at (default prepare's). */
  imageSize?: number;
  /** --channels, for an image-folder --data_root. */
  channels?: ChannelOrder;
  /** --profile: time the training steps by layer and pass (src/models/profile.ts) and print the table after training. */
  profile?: boolean;
}

/** The optimizer state of a checkpoint that does not fit this run's per-layer mapping, said as what to pass. */
function optimizerMismatch(e: unknown, modelFile: string, experiment: ExperimentName): unknown {
  if (!(e instanceof Error) || !e.message.startsWith('MultiOptimizer.setState: saved state is for keys')) return e;
  const keys = /keys \[([^\]]*)\]/.exec(e.message)?.[1] ?? '';
  const perLayer = keys.split(', ').filter((k) => k && k !== 'default').length > 0;
  return new UsageError(perLayer
    ? `${modelFile} was saved by a run that trained its imported layers at their own learning rate (--experiment finetune or extract), but this run is --experiment ${experiment}; pass the --experiment and --source_model it was trained with to resume it`
    : `${modelFile} was saved by a run with one learning rate for every layer (--experiment scratch), but this run is --experiment ${experiment}; resume it with --experiment scratch (without --source_model)`);
}

/** Where checkpoints go when --serialize is given without --save_path (neon: "neon_model.pkl"). */
export const DEFAULT_SAVE_PATH = 'model.h5';

function warn(line: string): void {
  process.stderr.write(`tl-scratch: warning: ${line}\n`);
}

/**
 * neon's save rules (neon/util/argparser.py, parse_args): --serialize N without a path saves
 * to a default file, and a path without --serialize saves every epoch; each with a warning.
 */
function saveRules(f: { serialize: number; savePath?: string }, log: (line: string) => void = warn): { serialize: number; savePath?: string } {
  let { serialize, savePath } = f;
  if (serialize > 0 && !savePath) {
    savePath = DEFAULT_SAVE_PATH;
    log(`--serialize ${serialize} without --save_path: checkpoints go to ${savePath} (as neon, which uses a default file name)`);
  }
  if (savePath && serialize === 0) {
    serialize = 1;
    log(`--save_path ${savePath} without --serialize: a checkpoint every epoch (--serialize 1, as neon)`);
  }
  return { serialize, savePath };
}

/** The schedule description inside a stored optimizer description (the 'default' optimizer of a MultiOptimizer). */
function storedSchedule(d: Record<string, unknown> | null): ScheduleDescription | undefined {
  if (!d) return undefined;
  const gdm = d.type === 'MultiOptimizer' ? (d.mapping as Record<string, Record<string, unknown>> | undefined)?.default : d;
  const sched = gdm?.schedule as ScheduleDescription | undefined;
  return sched && typeof sched === 'object' && typeof sched.type === 'string' ? sched : undefined;
}

/**
 * The schedule of this run: --schedule, else the checkpoint's when resuming (so a resumed run
 * continues the schedule it was saved with). A --schedule that differs from the checkpoint's
 * is a usage error: its saved state would not fit.
 */
async function runSchedule(f: TrainFlags): Promise<ScheduleDescription | undefined> {
  const given = f.schedule === undefined ? undefined : parseScheduleSpec(f.schedule);
  if (!f.modelFile || !existsSync(f.modelFile) || !(await isTlCheckpoint(f.modelFile))) return given;
  const stored = storedSchedule(await readCheckpointOptimizer(f.modelFile));
  if (!stored) return given;
  if (given && !sameSchedule(given, stored)) {
    throw new UsageError(`--schedule ${f.schedule} differs from the schedule ${scheduleSpecOf(stored)} stored in ${f.modelFile}; leave --schedule out to continue the stored one`);
  }
  return given ?? stored;
}

/**
 * How often to evaluate on the test set: as asked, else 0 for one experiment and, for the
 * report of --experiment all, every epoch (every epochs/5 when the test set has over
 * 10,000 examples).
 */
function evalFrequency(asked: number | undefined, nExperiments: number, testExamples: number, epochs: number): number {
  if (asked !== undefined) return asked;
  if (nExperiments < 2) return 0;
  return testExamples > 10_000 ? Math.max(1, Math.round(epochs / 5)) : 1;
}

/** P with "_<tag>" before its extension: model.h5 → model_finetune.h5. */
function withTag(path: string, tag: string): string {
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}_${tag}${ext}`);
}

/** Makes the named backend the default (where the model's tensors live); unknown names list the registered ones. */
export function checkBackend(name: string): void {
  setBackend(name);
}

/**
 * -v: the learning rate of every epoch, as the optimizer applies it (its schedule peeked at
 * that epoch): "epoch 3: learning rate 0.0001" (and the imported layers' when it differs).
 */
function learningRateLog(optimizer: Optimizer, model: Model): Callback {
  return {
    onEpochBegin: (_m, epoch) => {
      const layers = model.layersToOptimize;
      const rates = new Map<string, number>();
      for (const l of layers) {
        const key = optimizer instanceof MultiOptimizer ? (optimizer.optimizerFor(l).name ?? 'default') : 'default';
        if (!rates.has(key)) rates.set(key, optimizer.learningRateFor(l, epoch));
      }
      const base = rates.get('default') ?? [...rates.values()][0];
      const imported = rates.get('imported');
      console.log(`epoch ${epoch + 1}: learning rate ${String(base)}${imported !== undefined ? ` (imported layers ${String(imported)})` : ''}`);
    },
  };
}

/** Ctrl-C asks the model to stop after the current minibatch; a second Ctrl-C exits at once. */
function onInterrupt(model: Model): { interrupted: () => boolean; dispose: () => void } {
  let count = 0;
  const handler = () => {
    count++;
    if (count > 1) process.exit(130);
    process.stderr.write('\ninterrupt: stopping after this minibatch (Ctrl-C again to quit without a checkpoint)\n');
    model.stopRequested = true;
  };
  process.on('SIGINT', handler);
  return { interrupted: () => count > 0, dispose: () => process.off('SIGINT', handler) };
}

export async function train(flags: TrainFlags): Promise<number> {
  checkBackend(flags.backend);
  const resume = await resumeFrom(flags);
  let f: TrainFlags = resume.flags;
  const schedule = await runSchedule(f);
  const saving = saveRules(f);
  if (f.outputFile !== undefined && f.outputFile === '') throw new UsageError('--output_file needs a file name');
  const experiments: ExperimentName[] = f.experiment === 'all' ? [...EXPERIMENTS] : [f.experiment ?? (f.sourceModel ? 'finetune' : 'scratch')];
  if (experiments.some((e) => e !== 'scratch') && !f.sourceModel && !resume.training) {
    throw new UsageError(`--experiment ${f.experiment} needs pretrained weights: pass --source_model FILE (neon pickle, Keras .h5, PyTorch .pth, safetensors or a tl-scratch checkpoint)`);
  }
  if (f.modelFile && experiments.length > 1) throw new UsageError('--model_file resumes one run; use it with a single --experiment');
  // outputs that cannot be written fail now, not after the training
  for (const [flag, p] of [['--save_path', saving.savePath], ['--output_file', f.outputFile], ['--inference_file', experiments.length > 1 ? undefined : f.inferenceFile]] as const) if (p) checkWritable(p, flag);

  const source: WeightFile | undefined = f.sourceModel ? await readWeights(f.sourceModel) : undefined;
  const fromSource = source && !resume.info?.model ? modelFlagsFromSource(f, source, f.explicit ?? new Set()) : undefined;
  if (fromSource) f = fromSource.flags;
  const pre = await choosePreprocess(f.preprocess, f.modelFile ?? f.sourceModel, f.modelFile ? undefined : source, f.modelFile ? '--model_file' : '--source_model');
  let dataRoot = f.dataRoot;
  if (isImageFolder(dataRoot)) {
    const set = await folderSettingsFrom(f.modelFile, source, { size: f.imageSize, channels: f.channels });
    if (set.line) console.log(set.line);
    dataRoot = await preparedImageFolder(dataRoot, { size: set.size, channels: set.channels, progress: f.progressBar, log: (l) => console.log(l) });
  } else if (f.imageSize !== undefined || f.channels !== undefined) {
    throw new UsageError(`${f.imageSize !== undefined ? '--image_size' : '--channels'} applies to a --data_root that is a folder of class folders of images; ${f.dataRoot} is already prepared (give the size and channels to 'tl-scratch prepare')`);
  }
  const input = await loadInputSets({ dataRoot, batchSize: f.batchSize, trainPerClass: f.trainPerClass, seed: f.rngSeed, prefetch: f.prefetch ?? true }, pre.name);
  const recentred = resume.info?.mean && f.modelFile && pre.name === 'neon' ? recenterOnRecordedMean(input, resume.info.mean, f.modelFile) : undefined;
  const data = input.data;
  const evalFreq = evalFrequency(f.evalFreq, experiments.length, data.test.ndata, f.epochs);
  console.log(`data: ${data.description}`);
  if (f.sourceModel && source) {
    console.log(`source model: ${f.sourceModel} (${source.format}, ${source.layers.length} layers with weights)`);
    for (const n of source.notes) console.log(`note: ${n}`);
  }
  if (fromSource?.line) console.log(fromSource.line);
  for (const l of resume.lines) console.log(l);
  console.log(pre.line);
  if (recentred) console.log(recentred);

  const runs: RunRecord[] = [];
  for (const experiment of experiments) {
    const tag = experiments.length > 1 ? experiment : '';
    if (tag) console.log(`\n=== experiment: ${experiment} ===`);
    manualSeed(f.rngSeed);
    data.train.reset();
    const model = buildModel(f, data.train.nclass);
    model.initialize(data.train.lshape);
    model.featureCache = { enabled: f.featureCache ?? true, log: (l) => console.log(l) };
    const setup = {
      experiment, model, trainSet: data.train, source, match: f.match, onShapeMismatch: f.mismatch,
      resumedImported: resume.training?.experiment === experiment ? resume.training.imported : undefined,
      optimizer: { lr: f.lr, momentum: f.momentum, wdecay: f.wdecay, importedLrScale: f.importedLrScale, schedule },
    };
    const prepared = prepareExperiment(setup);
    const skipped = prepared.report?.shapeMismatch ?? [];
    if (skipped.length) console.log(`--mismatch skip: ${skipped.length} parameter(s) not imported, their layers initialized and trained as new: ${skipped.map((m) => `${m.layer}.${m.param}`).join(', ')}`);
    // what a later run needs to resume from the checkpoint alone (src/cli/resume.ts)
    const training: TrainingRecord = {
      experiment, imported: prepared.imported, importedLrScale: prepared.importedLrScale ?? f.importedLrScale ?? 1, lr: f.lr, momentum: f.momentum, wdecay: f.wdecay,
      ...(f.sourceModel ? { sourceModel: f.sourceModel } : resume.training?.sourceModel ? { sourceModel: resume.training.sourceModel } : {}),
    };
    setInputInfo(model, { ...input.info, model: { model: f.model, widthMult: f.widthMult, fcSize: f.fcSize, dropoutKeep: f.dropoutKeep }, training: { ...training } });
    if (f.modelFile) {
      const how = await loadModelFile(model, f.modelFile, { resume: true, match: f.match, log: (l) => console.log(l) });
      if (how === 'resumed') {
        data.train.skipEpochs(model.epochIndex);
        console.log(`resuming from ${f.modelFile} at epoch ${model.epochIndex + 1} of ${f.epochs}`);
      }
    }
    console.log(`${experiment}: ${prepared.imported.length} layers imported; training ${prepared.trainableParams.toLocaleString('en-US')} of ${prepared.totalParams.toLocaleString('en-US')} parameters`);

    const history: EpochRecord[] = [];
    const callbacks: Callback[] = [];
    const profile = f.profile ? new Profile() : null;
    if (profile) callbacks.push(profile.callback());
    // where chance is: the cost of a uniform output, on the progress, the summary and a warning
    const uniform = uniformCost('CrossEntropyBinary', data.train.nclass);
    if (f.progressBar) callbacks.push(new ProgressBarCallback(() => data.train.nbatches, { history, costName: 'CrossEntropyBinary', uniformCost: uniform, numEpochs: f.epochs }));
    if (uniform !== null) callbacks.push(new UniformCostWarning(history, uniform, f.lr, warn));
    const savePath = saving.savePath && (tag ? withTag(saving.savePath, tag) : saving.savePath);
    if (savePath && saving.serialize > 0) {
      callbacks.push(new EveryNEpochs(saving.serialize, async (m, e) => {
        await m.save(savePath, { keepStates: f.saveStates ?? true });
        if (f.verbose > 0) console.log(`checkpoint: epoch ${e + 1} written to ${savePath}`);
      }));
    }
    if (f.verbose > 0) callbacks.push(learningRateLog(prepared.optimizer, model));
    if (f.outputFile) callbacks.push(new OutputFileCallback(tag ? withTag(f.outputFile, tag) : f.outputFile, history, data.train.nbatches));
    const interrupt = onInterrupt(model);
    let result;
    try {
      const testProgress = f.progressBar ? () => {
        const bar = new CountProgress(tag ? `${experiment} test` : 'test', 'images');
        return (done: number, total: number) => bar.update(done, total);
      } : undefined;
      result = await runExperiment(setup, prepared, { numEpochs: f.epochs, testSet: data.test, evalFreq, evalAtStart: experiments.length > 1 && evalFreq > 0, callbacks, history, testProgress });
    } catch (e) {
      // the checkpoint's optimizer states are restored when training starts
      throw f.modelFile ? optimizerMismatch(e, f.modelFile, experiment) : e;
    } finally {
      interrupt.dispose();
    }
    if (profile) console.log(`\n${profile.format()}\n`);
    const cacheInfo = model.featureCacheInfo;
    if (f.verbose > 0 && cacheInfo && !cacheInfo.used) console.log(`feature cache: not used (${cacheInfo.reason})`);
    if (interrupt.interrupted()) {
      if (savePath) {
        await model.save(savePath, { keepStates: f.saveStates ?? true });
        console.log(`interrupted during epoch ${model.epochIndex + 1}: checkpoint written to ${savePath}; continue with --model_file ${savePath}`);
      } else {
        console.log('interrupted: no checkpoint written (no --save_path)');
      }
      return 130;
    }
    console.log(`Accuracy = ${pct(result.testAccuracy)}`);
    if (history.length) {
      console.log(`training cost: ${history[0]!.trainCost.toFixed(2)} after the first epoch, ${result.finalCost.toFixed(2)} after the last${uniform !== null ? ` (a uniform output costs ${uniform.toFixed(2)})` : ''}`);
    }
    let inferenceFile = f.inferenceFile;
    if (tag) {
      mkdirSync(f.reportDir, { recursive: true });
      inferenceFile = join(f.reportDir, `inference_${experiment}.txt`);
    }
    const { test, ...record } = result;
    const n = writeTestPass(inferenceFile, { accuracy: result.testAccuracy, ...test });
    console.log(`inference: ${n} test outputs written to ${inferenceFile}`);
    runs.push({ ...record, seed: f.rngSeed, inferenceFile: tag ? basename(inferenceFile) : undefined });
  }

  if (experiments.length > 1) {
    console.log(`\n${comparisonTable(runs)}`);
    const path = writeReport({
      dir: f.reportDir,
      title: 'tl-scratch: the three transfer-learning experiments',
      setup: [`data: ${data.description}`, `source model: ${f.sourceModel ? shareablePath(f.sourceModel) : 'none'}`, `model: ${f.model}, width ×${f.widthMult}, fc ${f.fcSize}, dropout keep ${f.dropoutKeep}`,
        `${f.epochs} epochs, batch ${f.batchSize}, lr ${f.lr}${schedule ? ` (schedule ${scheduleSpecOf(schedule)})` : ''}, momentum ${f.momentum}, wdecay ${f.wdecay}, seed ${f.rngSeed}`],
      runs,
    });
    console.log(`report: ${path}`);
  }
  data.train.close();
  data.test.close();
  return 0;
}
