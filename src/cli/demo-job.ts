// One run of the demo: an experiment with one seed on the built-in Fashion-MNIST
// T-shirt/top vs Shirt task. Runs in a worker thread (or in-process) and returns its record.
import { join } from 'node:path';
import { manualSeed } from '../tensor/random.js';
import { setBackend, setNumThreads } from '../kernels/index.js';
import { prepareExperiment, runExperiment, type EpochRecord, type ExperimentName } from '../transfer/experiment.js';
import { readWeights } from '../transfer/read.js';
import { builtinIterators } from './data.js';
import type { Callback } from '../models/callbacks.js';
import { writeTestPass } from './inference.js';
import { buildModel } from './model-options.js';
import type { RunRecord } from './report.js';

export interface DemoJob {
  experiment: ExperimentName;
  seed: number;
  trainPerClass: number;
  epochs: number;
  /** Base learning rate. */
  lr: number;
  /** Evaluate on the test set every N epochs (0: never during training). */
  evalEvery: number;
  batchSize: number;
  sourceModel: string;
  widthMult: number;
  fcSize: number;
  imageSize: number;
  reportDir: string;
  /** Threads of the cpu backend for this run (the demo shares the cores between its worker threads). */
  threads?: number;
  /** Compute backend of this run (default: the default backend). */
  backend?: string;
  /** Pixel mean subtracted from the target images: the source's (MNIST's), as a transferred model expects its source's preprocessing. */
  mean: number;
}

/** One epoch of a demo run, as reported to the parent while the run goes on. */
export interface DemoEpoch {
  experiment: ExperimentName;
  seed: number;
  /** 1-based. */
  epoch: number;
  epochs: number;
  cost: number;
  /** Test accuracy when it was evaluated at this epoch. */
  testAccuracy?: number;
}

export async function runDemoJob(job: DemoJob, onEpoch?: (e: DemoEpoch) => void): Promise<RunRecord> {
  if (job.threads !== undefined) setNumThreads(job.threads);
  if (job.backend) setBackend(job.backend);
  const { train: trainSet, test: testSet } = builtinIterators('fashion-tshirt-shirt', {
    size: job.imageSize, bsz: job.batchSize, testBsz: 50, trainPerClass: job.trainPerClass, seed: job.seed, mean: job.mean,
  });
  const source = job.experiment === 'scratch' ? undefined : await readWeights(job.sourceModel);
  manualSeed(job.seed);
  const model = buildModel({ model: 'vgg16_transfer', widthMult: job.widthMult, fcSize: job.fcSize, dropoutKeep: 0.5 }, 2);
  const setup = { experiment: job.experiment, model, trainSet, source, optimizer: { lr: job.lr, momentum: 0.9, wdecay: 0.0005 }, log: () => {} };
  const prepared = prepareExperiment(setup);
  const history: EpochRecord[] = [];
  // runExperiment's recorder runs first, so this callback sees the epoch's record (with its test accuracy when evaluated).
  const callbacks: Callback[] = onEpoch
    ? [{ onEpochEnd: (_m, epoch, cost) => onEpoch({ experiment: job.experiment, seed: job.seed, epoch: epoch + 1, epochs: job.epochs, cost, testAccuracy: history[history.length - 1]?.evalAccuracy }) }]
    : [];
  const { test, ...result } = await runExperiment(setup, prepared, { numEpochs: job.epochs, testSet, callbacks, history, evalFreq: job.evalEvery, evalAtStart: job.evalEvery > 0 });
  const inferenceFile = `inference_${job.experiment}_seed${job.seed}.txt`;
  writeTestPass(join(job.reportDir, inferenceFile), { accuracy: result.testAccuracy, ...test });
  return { ...result, seed: job.seed, inferenceFile };
}
