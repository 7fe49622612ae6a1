// `tl-scratch train`: main_transfer.py of the lab, with neon's flags.
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { WeightFile } from '../formats/types.js';
import { EveryNEpochs, type Callback } from '../models/callbacks.js';
import type { Model } from '../models/model.js';
import { manualSeed } from '../tensor/random.js';
import { EXPERIMENTS, prepareExperiment, runExperiment, type EpochRecord, type ExperimentName } from '../transfer/experiment.js';
import { readWeights } from '../transfer/read.js';
import { UsageError } from '../util/errors.js';
import { setInputInfo } from '../models/checkpoint.js';
import type { PreprocessName } from '../data/preprocess.js';
import { choosePreprocess, loadInputSets } from './input.js';
import { pct } from './format.js';
import { writeInferenceFile } from './inference.js';
import { buildModel, loadModelFile, type ModelFlags } from './model-options.js';
import { OutputFileCallback } from './output-file.js';
import { ProgressBarCallback } from './progress.js';
import { comparisonTable, writeReport, type RunRecord } from './report.js';

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
  evalFreq: number;
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
  /** --preprocess; default from the weight file the model starts from. */
  preprocess?: PreprocessName;
}

/** P with "_<tag>" before its extension: model.h5 → model_finetune.h5. */
export function withTag(path: string, tag: string): string {
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}_${tag}${ext}`);
}

export function checkBackend(name: string): void {
  if (name === 'cpu') return;
  if (name === 'gpu') throw new UsageError("backend 'gpu' is not available in this build (no GPU kernels yet); use -b cpu");
  throw new UsageError(`unknown backend '${name}'; choose cpu`);
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

export async function train(f: TrainFlags): Promise<number> {
  checkBackend(f.backend);
  if (f.serialize > 0 && !f.savePath) throw new UsageError('--serialize needs --save_path (where to write the checkpoints)');
  if (f.outputFile !== undefined && f.outputFile === '') throw new UsageError('--output_file needs a file name');
  const experiments: ExperimentName[] = f.experiment === 'all' ? [...EXPERIMENTS] : [f.experiment ?? (f.sourceModel ? 'finetune' : 'scratch')];
  if (experiments.some((e) => e !== 'scratch') && !f.sourceModel) {
    throw new UsageError(`--experiment ${f.experiment} needs pretrained weights: pass --source_model FILE (neon pickle, Keras .h5, PyTorch .pth, safetensors or a tl-scratch checkpoint)`);
  }
  if (f.modelFile && experiments.length > 1) throw new UsageError('--model_file resumes one run; use it with a single --experiment');

  const source: WeightFile | undefined = f.sourceModel ? await readWeights(f.sourceModel) : undefined;
  const pre = await choosePreprocess(f.preprocess, f.modelFile ?? f.sourceModel, f.modelFile ? undefined : source, f.modelFile ? '--model_file' : '--source_model');
  const input = await loadInputSets({ dataRoot: f.dataRoot, batchSize: f.batchSize, trainPerClass: f.trainPerClass, seed: f.rngSeed }, pre.name);
  const data = input.data;
  console.log(`data: ${data.description}`);
  if (f.sourceModel && source) {
    console.log(`source model: ${f.sourceModel} (${source.format}, ${source.layers.length} layers with weights)`);
    for (const n of source.notes) console.log(`note: ${n}`);
  }
  console.log(pre.line);

  const runs: RunRecord[] = [];
  for (const experiment of experiments) {
    const tag = experiments.length > 1 ? experiment : '';
    if (tag) console.log(`\n=== experiment: ${experiment} ===`);
    manualSeed(f.rngSeed);
    data.train.reset();
    const model = buildModel(f, data.train.nclass);
    model.initialize(data.train.lshape);
    setInputInfo(model, { ...input.info, model: { model: f.model, widthMult: f.widthMult, fcSize: f.fcSize, dropoutKeep: f.dropoutKeep } });
    const setup = {
      experiment, model, trainSet: data.train, source, match: f.match,
      optimizer: { lr: f.lr, momentum: f.momentum, wdecay: f.wdecay, importedLrScale: f.importedLrScale },
    };
    const prepared = prepareExperiment(setup);
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
    if (f.progressBar) callbacks.push(new ProgressBarCallback(() => data.train.nbatches, { history, costName: 'CrossEntropyBinary' }));
    const savePath = f.savePath && (tag ? withTag(f.savePath, tag) : f.savePath);
    if (savePath && f.serialize > 0) {
      callbacks.push(new EveryNEpochs(f.serialize, async (m, e) => {
        await m.save(savePath, { keepStates: f.saveStates ?? true });
        if (f.verbose > 0) console.log(`checkpoint: epoch ${e + 1} written to ${savePath}`);
      }));
    }
    if (f.outputFile) callbacks.push(new OutputFileCallback(tag ? withTag(f.outputFile, tag) : f.outputFile, history, data.train.nbatches));
    const interrupt = onInterrupt(model);
    let result;
    try {
      result = await runExperiment(setup, prepared, { numEpochs: f.epochs, testSet: data.test, evalFreq: f.evalFreq, callbacks, history });
    } finally {
      interrupt.dispose();
    }
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
    let inferenceFile = f.inferenceFile;
    if (tag) {
      mkdirSync(f.reportDir, { recursive: true });
      inferenceFile = join(f.reportDir, `inference_${experiment}.txt`);
    }
    const n = writeInferenceFile(inferenceFile, model, data.test);
    console.log(`inference: ${n} test outputs written to ${inferenceFile}`);
    runs.push({ ...result, seed: f.rngSeed, inferenceFile: tag ? basename(inferenceFile) : undefined });
  }

  if (experiments.length > 1) {
    console.log(`\n${comparisonTable(runs)}`);
    const path = writeReport({
      dir: f.reportDir,
      title: 'tl-scratch: the three transfer-learning experiments',
      setup: [`data: ${data.description}`, `source model: ${f.sourceModel}`, `model: ${f.model}, width ×${f.widthMult}, fc ${f.fcSize}, dropout keep ${f.dropoutKeep}`,
        `${f.epochs} epochs, batch ${f.batchSize}, lr ${f.lr}, momentum ${f.momentum}, wdecay ${f.wdecay}, seed ${f.rngSeed}`],
      runs,
    });
    console.log(`report: ${path}`);
  }
  data.train.close();
  data.test.close();
  return 0;
}
