// One transfer-learning experiment of the lab (lab.md, "The three experiments"):
//   scratch   no weights imported; every layer trains at the base learning rate
//   finetune  imported layers train at base_lr × importedLrScale (0.001 in the lab)
//   extract   imported layers are frozen (learning rate 0): a fixed feature extractor
// The new head always trains at the base learning rate. This file builds the optimizer
// for that (a MultiOptimizer keyed by imported layer names) and runs fit/eval.
import { COST_TERMS } from '../kernels/cost-terms.js';
import type { CostName } from '../kernels/backend.js';
import type { DataIterator } from '../data/iterator.js';
import type { WeightFile } from '../formats/types.js';
import { Accuracy } from '../models/metrics.js';
import type { Callback } from '../models/callbacks.js';
import type { EvaluateOptions, Model } from '../models/model.js';
import { GradientDescentMomentum, MultiOptimizer, type Optimizer } from '../optim/index.js';
import { Schedule, scheduleFromDescription, StepSchedule, type LearningRateSchedule, type ScheduleDescription } from '../optim/schedule.js';
import { UsageError } from '../util/errors.js';
import { importMatchingLayers, type ImportOptions, type ImportReport } from './import.js';

export type ExperimentName = 'scratch' | 'finetune' | 'extract';
export const EXPERIMENTS: readonly ExperimentName[] = ['scratch', 'finetune', 'extract'];

/** The lab's learning-rate scale for imported layers. */
const DEFAULT_IMPORTED_LR_SCALE: Record<ExperimentName, number> = { scratch: 1, finetune: 0.001, extract: 0 };

/** The settings of {@link transferOptimizer}: base rate, momentum, weight decay, the imported layers' rate scale, schedule. */
export interface OptimizerSettings {
  lr: number;
  momentum: number;
  wdecay: number;
  /** Learning-rate multiplier of the imported layers. */
  importedLrScale: number;
  /** Learning-rate schedule (neon's), as its description; default constant. */
  schedule?: ScheduleDescription;
}

/**
 * A fresh schedule from its description for an optimizer whose rate is the base rate ×
 * `scale`. Schedules that multiply the base rate apply as they are; those that set absolute
 * rates (StepSchedule, Schedule(list, list)) get their rates × `scale` too, so that imported
 * layers keep training at `scale` times the new layers' rate.
 */
function scaledSchedule(d: ScheduleDescription | undefined, scale: number): LearningRateSchedule | undefined {
  if (!d) return undefined;
  const s = scheduleFromDescription(d);
  if (scale === 1) return s;
  if (s instanceof StepSchedule) return new StepSchedule(s.stepConfig, s.change.map((v) => v * scale));
  if (s instanceof Schedule && Array.isArray(s.change) && Array.isArray(s.stepConfig)) return new Schedule(s.stepConfig, (s.change as readonly number[]).map((v) => v * scale));
  return s;
}

/** GDM(lr) as 'default', and a copy at lr × scale for every imported layer (lab.md step 5), both following the schedule. */
export function transferOptimizer(imported: readonly string[], s: OptimizerSettings): Optimizer {
  const base = new GradientDescentMomentum(s.lr, { momentumCoef: s.momentum, wdecay: s.wdecay, name: 'default', schedule: scaledSchedule(s.schedule, 1) });
  if (!imported.length || s.importedLrScale === 1) return new MultiOptimizer({ default: base });
  const importedOpt = new GradientDescentMomentum(s.lr * s.importedLrScale, { momentumCoef: s.momentum, wdecay: s.wdecay, name: 'imported', schedule: scaledSchedule(s.schedule, s.importedLrScale) });
  const mapping: Record<string, Optimizer> = { default: base };
  for (const name of imported) mapping[name] = importedOpt;
  return new MultiOptimizer(mapping);
}

export interface ExperimentSetup {
  experiment: ExperimentName;
  model: Model;
  trainSet: DataIterator;
  /** Pretrained weights; required by finetune and extract, ignored by scratch. */
  source?: WeightFile;
  match?: ImportOptions['match'];
  /** What to do with a layer whose shape differs from the source's (ImportOptions.onShapeMismatch). */
  onShapeMismatch?: ImportOptions['onShapeMismatch'];
  /**
   * A resumed run without `source`: the layers the run that wrote the checkpoint imported.
   * Their weights come from the checkpoint; only their learning rate (the optimizer's
   * per-layer mapping) depends on them.
   */
  resumedImported?: readonly string[];
  optimizer: Omit<OptimizerSettings, 'importedLrScale'> & { importedLrScale?: number };
  log?: (line: string) => void;
}

export interface PreparedExperiment {
  imported: string[];
  report: ImportReport | null;
  optimizer: Optimizer;
  /** The imported layers' learning-rate factor applied (the experiment's default when none was given); set by prepareExperiment. */
  importedLrScale?: number;
  /** Parameters in layers whose learning rate is not 0. */
  trainableParams: number;
  totalParams: number;
}

/** Import (unless scratch) and build the optimizer. The model must be initialized. */
export function prepareExperiment(s: ExperimentSetup): PreparedExperiment {
  const log = s.log ?? ((l: string) => console.log(l));
  s.model.initialize(s.trainSet.lshape);
  let report: ImportReport | null = null;
  if (s.experiment !== 'scratch' && !s.source && s.resumedImported) {
    const names = new Set(s.model.layers.map((l) => l.name));
    const unknown = s.resumedImported.filter((n) => !names.has(n));
    if (unknown.length) throw new UsageError(`the checkpoint records imported layers the model does not have (${unknown.slice(0, 4).join(', ')}); pass --source_model and --experiment as it was trained`);
    report = { imported: [...s.resumedImported], notInSource: [], unusedInSource: [], shapeMismatch: [] };
  } else if (s.experiment !== 'scratch') {
    if (!s.source) throw new UsageError(`experiment '${s.experiment}' needs pretrained weights: pass --source_model FILE (or use --experiment scratch)`);
    report = importMatchingLayers(s.source, s.model, { match: s.match, onShapeMismatch: s.onShapeMismatch, log });
    if (!report.imported.length) {
      throw new UsageError(`no layer of ${s.source.path} matches the model by ${s.match ?? 'name'}; try --match order, or check that the file holds a VGG-16`);
    }
  }
  const imported = report?.imported ?? [];
  const scale = s.optimizer.importedLrScale ?? DEFAULT_IMPORTED_LR_SCALE[s.experiment];
  const optimizer = transferOptimizer(imported, { ...s.optimizer, importedLrScale: scale });
  let trainable = 0, total = 0;
  for (const l of s.model.layersToOptimize) {
    const n = l.params().reduce((a, p) => a + p.value.size, 0);
    total += n;
    if (optimizer.learningRateFor(l, 0) !== 0) trainable += n;
  }
  return { imported, report, optimizer, importedLrScale: scale, trainableParams: trainable, totalParams: total };
}

/** Mean over examples of the cost C_n of outputs [n, K] against one-hot targets given as class indices. */
function meanCost(cost: CostName, outputs: Float32Array, targets: Int32Array, K: number): number {
  const f = COST_TERMS[cost].f;
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    for (let k = 0; k < K; k++) total += f(outputs[i * K + k]!, targets[i] === k ? 1 : 0);
  }
  return targets.length ? total / targets.length : 0;
}

export interface EpochRecord {
  epoch: number;
  trainCost: number;
  /** Accuracy on this epoch's training minibatches (wrap-around duplicates excluded), measured during training (dropout on). */
  trainAccuracy: number;
  evalLoss?: number;
  evalAccuracy?: number;
  /** Seconds the evaluation took. */
  evalSeconds?: number;
  /** Seconds since training started, at this epoch's end. */
  seconds: number;
}

export interface ExperimentResult {
  experiment: ExperimentName;
  imported: string[];
  trainableParams: number;
  totalParams: number;
  testAccuracy: number;
  finalCost: number;
  seconds: number;
  history: EpochRecord[];
  /**
   * The test set evaluated before the first epoch of this run (RunOptions.evalAtStart): the
   * starting point of the test curves (imported layers with a new random head, or all random).
   */
  initialEval?: { epoch: number; accuracy: number; loss: number };
}

export interface RunOptions {
  numEpochs: number;
  /** Filled with one record per epoch as training goes (pass an array to share it with callbacks). */
  history?: EpochRecord[];
  testSet: DataIterator;
  /** Evaluate loss and accuracy on the test set every N epochs (0: never). */
  evalFreq?: number;
  /** Also evaluate before the first epoch (the curves' starting point; result.initialEval). */
  evalAtStart?: boolean;
  callbacks?: Callback[];
  /** Called as the final test pass begins; the function it returns sees the examples done after every batch (progress). */
  testProgress?: () => (done: number, total: number) => void;
}

/** The final test pass's outputs ([ndata, nout] row-major) and target classes, for the inference file. */
export interface TestOutputs {
  outputs: Float32Array;
  nout: number;
  targets: Int32Array;
}

/**
 * fit, recording per-epoch costs (and test loss/accuracy every evalFreq epochs), then the
 * final test accuracy and outputs from one pass over the test set.
 */
export async function runExperiment(s: ExperimentSetup, p: PreparedExperiment, r: RunOptions): Promise<ExperimentResult & { test: TestOutputs }> {
  const history: EpochRecord[] = r.history ?? [];
  const start = Date.now();
  const evalFreq = r.evalFreq ?? 0;
  let correct = 0, seen = 0;
  const accuracy = new Accuracy();
  // Layers that stay frozen for the whole run: evaluations reuse their test-set outputs.
  s.model.initialize(s.trainSet.lshape);
  const frozenBelow = s.model.frozenPrefix(p.optimizer, s.model.epochIndex, r.numEpochs);
  const evalTest = (model: Model, opts: EvaluateOptions = {}) => {
    const pass = model.evaluate(r.testSet, new Accuracy(), { ...opts, frozenBelow });
    return { pass, accuracy: pass.metrics[0]!, loss: meanCost(model.cost!.costfunc.name, pass.outputs, pass.targets, pass.nout) };
  };
  let initialEval: ExperimentResult['initialEval'];
  if (r.evalAtStart) {
    const e = evalTest(s.model);
    initialEval = { epoch: s.model.epochIndex, accuracy: e.accuracy, loss: e.loss };
  }
  const recorder: Callback = {
    onEpochBegin: () => {
      correct = 0;
      seen = 0;
    },
    onMinibatchEnd: (_m, _e, _mb, _c, b) => {
      if (!b) return;
      correct += accuracy.sum(b.y.toHost() as Float32Array, b.t.toHost() as Float32Array, b.y.shape[1]!, b.valid)[0]!;
      seen += b.valid;
    },
    onEpochEnd: (model, epoch, trainCost) => {
      const rec: EpochRecord = { epoch: epoch + 1, trainCost, trainAccuracy: seen ? correct / seen : NaN, seconds: (Date.now() - start) / 1000 };
      if (evalFreq > 0 && (epoch + 1) % evalFreq === 0) {
        const t0 = Date.now();
        // One pass over the test set for both the accuracy and the cost (neon's mean of C_n).
        const e = evalTest(model);
        rec.evalAccuracy = e.accuracy;
        rec.evalLoss = e.loss;
        rec.evalSeconds = (Date.now() - t0) / 1000;
      }
      history.push(rec);
    },
  };
  // The recorder runs first so that later callbacks (progress, log file) can read its record.
  await s.model.fit(s.trainSet, { optimizer: p.optimizer, numEpochs: r.numEpochs, cost: s.model.cost!, callbacks: [recorder, ...(r.callbacks ?? [])] });
  const { pass, accuracy: testAccuracy } = evalTest(s.model, { onBatch: r.testProgress?.() });
  return {
    test: { outputs: pass.outputs, nout: pass.nout, targets: pass.targets },
    experiment: s.experiment,
    imported: p.imported,
    trainableParams: p.trainableParams,
    totalParams: p.totalParams,
    testAccuracy,
    finalCost: history.length ? history[history.length - 1]!.trainCost : NaN,
    seconds: (Date.now() - start) / 1000,
    history,
    ...(initialEval ? { initialEval } : {}),
  };
}
