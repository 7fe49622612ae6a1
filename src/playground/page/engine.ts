// The playground's engine side: the demo's code path (src/cli/demo-job.ts) run in the page,
// and the looks inside a trained model (feature maps, one training step, im2col). Nothing
// here touches the DOM: main.ts draws what these functions return.
//
// One run = runDemoJob without files: the data as ImageSet iterators with the CLI's
// transform (28×28 zero-padded to 32×32, 0..255 minus the source's mean), manualSeed(seed),
// the same VGG-16 (width ×1/8, fc 128), prepareExperiment (import + per-layer learning
// rates) and runExperiment (fit, test accuracy every evalEvery epochs, final test pass). On
// the same kernels and settings the accuracy is the CLI's (test/playground/browser.test.ts).
import '../../browser/index.js'; // gpu.js for the gpu backend, setImmediate for Model.fit
import { manualSeed } from '../../tensor/random.js';
import { getBackend, setBackend } from '../../kernels/index.js';
import { gpuDevice } from '../../kernels/gpu/webgl/index.js';
import { windowGeometry } from '../../kernels/geometry.js';
import { tensor } from '../../autograd/ops/index.js';
import { ImageSet, type ImageSetIterator, type ImageTransform } from '../../data/builtin.js';
import { subtractMean } from '../../data/iterator.js';
import { generateVgg16TransferModel } from '../../models/vgg16.js';
import { isParamLayer, type Model } from '../../models/model.js';
import type { Callback } from '../../models/callbacks.js';
import type { Layer } from '../../layers/layer.js';
import type { Convolution } from '../../layers/convolution.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { WeightFile } from '../../formats/types.js';
import { prepareExperiment, runExperiment, type EpochRecord, type ExperimentName, type PreparedExperiment } from '../../transfer/experiment.js';
import { unpackWire, type BuiltinMeta, type PlaygroundInfo, type SourceMeta } from '../wire.js';

export type { ExperimentName, EpochRecord };

/** The backends a page can pick: gpu.js (WebGL) or the reference kernels, `ref` as in Node (the SIMD/threads backend `cpu` does not run in a page). */
export type PageBackend = 'gpu' | 'ref';

export interface BackendStatus {
  /** The backend the page uses by default. */
  preferred: PageBackend;
  /** One line for the page: mode, renderer, why it fell back. */
  line: string;
  gpuOk: boolean;
}

/** Starts gpu.js if it can; says which backend runs and why. */
export function probeBackends(): BackendStatus {
  try {
    const d = gpuDevice();
    if (d.mode === 'webgl2' || d.mode === 'webgl') {
      // notAGpu names the renderer when it is software (SwiftShader, llvmpipe).
      const where = d.info.notAGpu ? ` (${d.info.notAGpu}: slower than a real GPU)` : d.info.renderer ? ` on ${d.info.renderer}` : '';
      return { preferred: 'gpu', gpuOk: true, line: `gpu: gpu.js ${d.mode}${where}` };
    }
    return { preferred: 'ref', gpuOk: false, line: `ref: the reference kernels (gpu.js found no WebGL here, only its ${d.mode} mode)` };
  } catch (e) {
    return { preferred: 'ref', gpuOk: false, line: `ref: the reference kernels (no WebGL for the gpu backend: ${(e as Error).message})` };
  }
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).trim()}`);
  return r.arrayBuffer();
}

export async function fetchInfo(): Promise<PlaygroundInfo> {
  const r = await fetch('/api/info');
  if (!r.ok) throw new Error(`/api/info: ${r.status}`);
  return (await r.json()) as PlaygroundInfo;
}

/** The source model as the engine's readers return it (read by the server from the shipped HDF5 file). */
export async function fetchSource(): Promise<WeightFile> {
  const { meta, arrays } = unpackWire<SourceMeta>(await fetchBytes('/api/source'));
  return {
    path: meta.path, format: meta.format, notes: [], arrays: [],
    layers: meta.layers.map((l) => ({
      name: l.name, kind: l.kind,
      params: l.params.map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype, data: arrays[`${l.name}/${p.name}`] as Float32Array })),
    })),
  };
}

/** A labelled data set for one run: training and test images (8-bit, [N, C, H, W]). */
export interface PageData {
  name: string;
  train: ImageSet;
  test: ImageSet;
  classNames: string[];
}

/** The built-in target data with the CLI's labelled subset for this seed. */
export async function fetchBuiltin(trainPerClass: number, seed: number): Promise<PageData> {
  const { meta, arrays } = unpackWire<BuiltinMeta>(await fetchBytes(`/api/builtin?train_per_class=${trainPerClass}&seed=${seed}`));
  const name = `Fashion-MNIST T-shirt/Shirt`;
  return {
    name: `built-in ${name}`,
    classNames: meta.classNames,
    // The same names as src/data/builtin.ts gives them, so that messages read the same.
    train: new ImageSet(arrays.trainImages as Uint8Array, meta.lshape, arrays.trainLabels as Int32Array, meta.classNames.length, meta.classNames, `${name} train`),
    test: new ImageSet(arrays.testImages as Uint8Array, meta.lshape, arrays.testLabels as Int32Array, meta.classNames.length, meta.classNames, `${name} test`),
  };
}

export interface RunSettings {
  experiment: ExperimentName;
  seed: number;
  epochs: number;
  lr: number;
  evalEvery: number;
  backend: PageBackend;
  /** Pixel mean subtracted from every image: the source's (the demo's choice). */
  mean: number;
  widthMult: number;
  fcSize: number;
  imageSize: number;
  batchSize: number;
}

/** One parameter layer as the import report shows it. */
export interface LayerRate {
  name: string;
  className: string;
  imported: boolean;
  lr: number;
}

export interface RunResult {
  experiment: ExperimentName;
  model: Model;
  prepared: PreparedExperiment;
  importLines: string[];
  rates: LayerRate[];
  history: EpochRecord[];
  /** Test accuracy before training (evaluated when the run has curves): the test curve's epoch 0. */
  initialAccuracy?: number;
  testAccuracy: number;
  /** Correct test images out of testCount (the accuracy as a count: no rounding hides a difference). */
  testCorrect: number;
  testCount: number;
  finalCost: number;
  seconds: number;
  backend: string;
  train: ImageSetIterator;
  test: ImageSetIterator;
  data: PageData;
  settings: RunSettings;
}

/** Thrown by the stop button's callback; the run ends without a result. */
export class RunStopped extends Error {
  constructor() {
    super('stopped');
  }
}

/** How an image becomes a network input: the CLI's built-in transform (28×28 zero-padded, 0..255). */
function transformOf(s: { imageSize: number }): ImageTransform {
  return { size: s.imageSize, fit: 'pad', scale: 'byte', channels: 1 };
}

/**
 * One experiment with one seed, as runDemoJob does it. `onEpoch` sees each epoch's record
 * (test accuracy on evaluated epochs); `shouldStop` is polled after every minibatch.
 */
export async function runPageExperiment(s: RunSettings, data: PageData, source: WeightFile | undefined, onEpoch: (r: EpochRecord) => void, shouldStop: () => boolean): Promise<RunResult> {
  setBackend(s.backend);
  const t = transformOf(s);
  const mean = Float32Array.from([s.mean]);
  const train = data.train.iterator({ ...t, mean, bsz: Math.min(s.batchSize, data.train.n) });
  // The demo's test batch is 50; the accuracy does not depend on it.
  const test = data.test.iterator({ ...t, mean, bsz: Math.min(50, data.test.n) });
  manualSeed(s.seed);
  const model = generateVgg16TransferModel({ nclass: data.classNames.length, widthMult: s.widthMult, fcSize: s.fcSize, dropoutKeep: 0.5 });
  const importLines: string[] = [];
  const setup = {
    experiment: s.experiment, model, trainSet: train, source: s.experiment === 'scratch' ? undefined : source,
    optimizer: { lr: s.lr, momentum: 0.9, wdecay: 0.0005 }, log: (l: string) => importLines.push(l),
  };
  const prepared = prepareExperiment(setup);
  const importedSet = new Set(prepared.imported);
  const rates = model.layersToOptimize.map((l) => ({ name: l.name, className: l.className, imported: importedSet.has(l.name), lr: prepared.optimizer.learningRateFor(l, 0) }));
  const history: EpochRecord[] = [];
  const callbacks: Callback[] = [
    { onEpochEnd: () => onEpoch(history[history.length - 1]!) },
    { onMinibatchEnd: () => { if (shouldStop()) throw new RunStopped(); } },
  ];
  // As the demo: with curves, the test set is also evaluated before training (the curves' epoch 0).
  const r = await runExperiment(setup, prepared, { numEpochs: s.epochs, testSet: test, callbacks, history, evalFreq: s.evalEvery, evalAtStart: s.evalEvery > 0 });
  let correct = 0;
  const K = r.test.nout;
  r.test.targets.forEach((target, i) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (r.test.outputs[i * K + k]! > r.test.outputs[i * K + best]!) best = k;
    if (best === target) correct++;
  });
  return {
    experiment: s.experiment, model, prepared, importLines, rates, history, testAccuracy: r.testAccuracy, testCorrect: correct, testCount: r.test.targets.length,
    finalCost: r.finalCost, seconds: r.seconds, backend: s.backend, train, test, data, settings: s, initialAccuracy: r.initialEval?.accuracy,
  };
}

/** Example `i` of `set` as the network sees it: [1, C, S, S], transformed and minus the mean, as the iterators make it. */
function inputOf(run: RunResult, set: ImageSet, i: number): Tensor {
  const t = transformOf(run.settings);
  const shape = set.transformedShape(t);
  const x = set.example(i, t);
  subtractMean(x, Float32Array.from([run.settings.mean]), 1, shape);
  return tensor(x, [1, ...shape]);
}

export interface FeatureBlock {
  /** The pooling layer that ends the block (pool1 … pool5). */
  name: string;
  /** [K, P, Q] */
  shape: number[];
  values: Float32Array;
}

export interface Prediction {
  probabilities: number[];
  predicted: number;
  target: number;
  blocks: FeatureBlock[];
}

/** The trained model on test image i: class probabilities and each conv block's output (after its pooling). */
export function predictWithFeatures(run: RunResult, i: number): Prediction {
  setBackend(run.backend);
  let y = inputOf(run, run.data.test, i);
  const blocks: FeatureBlock[] = [];
  for (const l of run.model.layers) {
    y = l.fprop(y, true);
    if (l.className === 'Pooling') blocks.push({ name: l.name, shape: y.shape.slice(1), values: Float32Array.from(y.toHost()) });
  }
  const probabilities = Array.from(y.toHost());
  const predicted = probabilities.indexOf(Math.max(...probabilities));
  return { probabilities, predicted, target: run.data.test.labels[i]!, blocks };
}

/** One layer's part in one training step. */
export interface StepLayer {
  index: number;
  name: string;
  className: string;
  inShape: number[];
  outShape: number[];
  /** Shape of ∂cost/∂input that bprop returned; null where the backward pass stops (no layer below trains). */
  deltaShape: number[] | null;
  /** Whether bprop ran through this layer. */
  backward: boolean;
  /** Parameter layers: learning rate and ‖gradient‖₂ per parameter (null: frozen, not computed). */
  lr?: number;
  gradNorms?: { param: string; shape: number[]; norm: number | null }[];
  frozen?: boolean;
}

export interface StepReport {
  batchShape: number[];
  cost: number;
  layers: StepLayer[];
  /** Each layer's input, kept for the im2col view and the head's graph. */
  inputs: Tensor[];
  /** The minibatch's targets [N, classes]. */
  targets: Tensor;
}

/**
 * One training step opened up, on the run's model and its first training minibatch:
 * fprop layer by layer (dropout on, as in training), the cost, bprop from the top down to
 * the lowest layer that trains, and the gradient norms. The weights are not updated.
 */
export function insideOneStep(run: RunResult): StepReport {
  setBackend(run.backend);
  const model = run.model;
  const batch = run.train.batches().next().value!;
  let x = tensor(batch.x, batch.xShape);
  const t = tensor(batch.t, batch.tShape);
  const layers: StepLayer[] = [];
  const inputs: Tensor[] = [];
  const lrOf = (l: Layer): number | undefined => (isParamLayer(l) ? run.prepared.optimizer.learningRateFor(l, 0) : undefined);
  // As fit does: layers with learning rate 0 compute no weight gradients.
  for (const l of model.layersToOptimize) l.computeParamGrads = run.prepared.optimizer.learningRateFor(l, 0) !== 0;
  model.layers.forEach((l, index) => {
    inputs.push(x);
    const y = l.fprop(x, false);
    layers.push({ index, name: l.name, className: l.className, inShape: [...x.shape], outShape: [...y.shape], deltaShape: null, backward: false, lr: lrOf(l) });
    x = y;
  });
  const cost = model.cost!.getCost(x, t);
  let d: Tensor | null = model.cost!.getErrors(x, t);
  const lowest = model.lowestTrainable();
  for (let i = model.layers.length - 1; i >= lowest && d; i--) {
    d = model.layers[i]!.bprop(d, i > lowest);
    layers[i]!.backward = true;
    layers[i]!.deltaShape = d ? [...d.shape] : null;
  }
  model.layers.forEach((l, i) => {
    if (!isParamLayer(l)) return;
    const s = layers[i]!;
    s.frozen = !l.computeParamGrads;
    s.gradNorms = l.params().map((p) => {
      if (!l.computeParamGrads || !s.backward) return { param: p.name, shape: [...p.value.shape], norm: null };
      const g = p.grad.toHost();
      let sum = 0;
      for (let j = 0; j < g.length; j++) sum += g[j]! * g[j]!;
      return { param: p.name, shape: [...p.value.shape], norm: Math.sqrt(sum) };
    });
  });
  return { batchShape: [...batch.xShape], cost, layers, inputs, targets: t };
}

/** The im2col matrix [C·R·S, P·Q] of conv layer `index`'s input (first example of the step's batch), by the backend's own kernel. */
export function im2colOf(run: RunResult, step: StepReport, index: number): { rows: number; cols: number; values: Float32Array; geometry: string } {
  const layer = run.model.layers[index] as Convolution;
  const x = step.inputs[index]!;
  const [C, H, W] = x.shape.slice(1) as [number, number, number];
  const g = windowGeometry(`layer '${layer.name}'`, C, H, W, layer.R, layer.S, { stride: layer.opts.strides ?? 1, padding: layer.opts.padding ?? 0, dilation: layer.opts.dilation ?? 1 });
  const be = getBackend(run.backend);
  const first = be.upload(Float32Array.from(x.toHost().subarray(0, C * H * W)));
  const rows = C * g.R * g.S, cols = g.P * g.Q;
  const out = be.alloc('float32', rows * cols);
  be.im2col(first, 0, g, out);
  return {
    rows, cols, values: Float32Array.from(be.read(out, 0, rows * cols)),
    geometry: `input [${C}, ${H}, ${W}], kernel ${g.R}×${g.S}, stride ${g.strideH}, padding ${g.padH} → cols [C·R·S = ${rows}, P·Q = ${g.P}·${g.Q} = ${cols}]; the layer's output is W [${layer.K}, ${rows}] × cols`,
  };
}
