// A Model is neon's Sequential container: a list of layers, the training loop (fit), and
// evaluation (eval, getOutputs) with neon's exact semantics (neon/models/model.py; docs/neon-notes.md).
//
// Frozen layers (beyond neon): a parameter layer whose optimizer gives it learning rate 0
// at this epoch computes no weight gradient, and backward stops at the lowest layer that
// still trains, so feature extraction costs little more than a forward pass.
//
// Cached frozen features (beyond neon, same results): every batch's forward goes through a
// BatchForward (batch-forward.ts). In fit it caches the output of the lowest layers when
// they stay frozen for the whole run and trains the later epochs on it (Model.featureCache
// turns it off); in evaluate it keeps the same prefix's outputs for a test set between
// evaluations while those layers' weights stay as they were (frozenBelow), so evaluating
// every epoch costs the head alone.
import type { DataIterator } from '../data/iterator.js';
import type { Layer, LayerDescription } from '../layers/layer.js';
import type { ParamLayer } from '../layers/param.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../autograd/ops/create.js';
import { shapeStr } from '../tensor/shape.js';
import { BackendError, TlError } from '../util/errors.js';
import { BatchForward, EvalPrefixCache, checkInput, planFitForward } from './batch-forward.js';
import type { Callback } from './callbacks.js';
import type { GeneralizedCost } from './cost.js';
import type { Metric } from './metrics.js';
import { loadCheckpoint, saveCheckpoint, type LoadOptions, type SaveOptions } from './checkpoint.js';
import { formatSummary } from './summary.js';
import { evaluatePass, meanCostPass } from './evaluation.js';
import type { FeatureCacheInfo, FeatureCacheOptions } from './feature-cache.js';
import { frozenPrefixOf, isParamLayer } from './frozen-prefix.js';
import { epochLoop } from './epoch-loop.js';
import { epilogueRunAt, fpropRun } from './epilogue-fusion.js';

export { isParamLayer };

/** What fit needs from an optimizer (src/optim implements it). */
export interface TrainOptimizer {
  /** Update the parameters of `layers` from their gradients (summed over a batch of `bsz`). */
  optimize(layers: ParamLayer[], epoch: number, bsz: number): void;
  /** Learning rate a layer gets at an epoch; 0 marks it frozen. Optional. */
  learningRateFor?(layer: ParamLayer, epoch: number): number;
  /** State to save in checkpoints. */
  getState?(): unknown;
  /** Restore a state from getState. */
  setState?(state: unknown): void;
  /** Type and settings, saved in checkpoints. */
  describe?(): Record<string, unknown>;
}

/** What Model.fit needs besides the data: optimizer, number of epochs, cost, callbacks. */
export interface FitOptions {
  optimizer: TrainOptimizer;
  numEpochs: number;
  cost: GeneralizedCost;
  callbacks?: Callback[];
  /** Cached frozen features for this call: options merged over Model.featureCache; true or false turns them on or off. */
  featureCache?: FeatureCacheOptions | boolean;
}

/** Options of Model.evaluate. */
export interface EvaluateOptions {
  /** Sees the examples done so far after every batch (progress). */
  onBatch?: (done: number, total: number) => void;
  /**
   * Layers [0, frozenBelow) do not change between evaluations (frozenPrefix says how many):
   * their outputs for this set are kept in memory and reused by the next evaluation of the
   * same set while those layers' weights are unchanged (checked by a fingerprint), so repeated
   * evaluations cost the head alone. Results equal the uncached pass bit for bit. 0 (default): off.
   */
  frozenBelow?: number;
}

/**
 * Runs `f` for layer `l`; a backend's refusal (a BackendError: an array larger than the
 * device allows, a lost device) is thrown again naming the layer.
 */
function inLayer<T>(l: Layer, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BackendError && !e.message.startsWith('layer ')) throw new BackendError(`layer '${l.name}' (${l.className}): ${e.message}`);
    throw e;
  }
}

/** neon's Sequential model: a list of layers with fit (training), eval, getOutputs, checkpoints and a description. */
export class Model {
  readonly layers: Layer[];
  /** 0-based index of the next epoch to train (restored from checkpoints). */
  epochIndex = 0;
  inShape: readonly number[] | null = null;
  optimizer: TrainOptimizer | null = null;
  cost: GeneralizedCost | null = null;
  /** Optimizer state read from a checkpoint before fit() was given its optimizer. */
  pendingOptimizerState: unknown = undefined;
  /** Set by a callback (e.g. Ctrl-C) to end training after the current minibatch. */
  stopRequested = false;
  /** Cached frozen features in fit (on by default where they apply; `{ enabled: false }` turns them off). */
  featureCache: FeatureCacheOptions = {};
  /** What the last fit did about the feature cache. */
  featureCacheInfo: FeatureCacheInfo | null = null;
  /**
   * Run a Convolution and the Bias and Rectlin after it as one fused kernel call (the same
   * values; ./epilogue-fusion.ts). On by default; off runs every layer alone.
   */
  fuseEpilogues = true;
  /** The frozen prefix's outputs for the last set evaluated with frozenBelow (see evaluate). */
  private readonly evalCache = new EvalPrefixCache();

  constructor(layers: (Layer | Layer[])[]) {
    this.layers = layers.flat();
    const seen = new Set<string>();
    for (const l of this.layers) {
      if (seen.has(l.name)) throw new TlError(`model: two layers are named '${l.name}'; layer names must be unique (checkpoints and weight import match by name)`);
      seen.add(l.name);
    }
  }

  /** Configure every layer for inputs of shape inShape ([C, H, W]); allocates and initializes parameters once. */
  initialize(inShape: readonly number[]): void {
    if (this.inShape && shapeStr(this.inShape) === shapeStr(inShape)) return;
    let shape = inShape;
    for (const l of this.layers) shape = inLayer(l, () => l.configure(shape));
    this.inShape = [...inShape];
  }

  /** Output shape of one example (the last layer's), after {@link Model.initialize}. */
  get outShape(): readonly number[] {
    return this.layers[this.layers.length - 1]!.outShape;
  }

  /** Parameter layers in model order (neon's layers_to_optimize). */
  get layersToOptimize(): (Layer & ParamLayer)[] {
    return this.layers.filter(isParamLayer);
  }

  /** The layer named `name`, if any. */
  layer(name: string): Layer | undefined {
    return this.layers.find((l) => l.name === name);
  }

  /** Forward pass of a batch x [N, ...inShape] through every layer. */
  fprop(x: Tensor, inference = false): Tensor {
    checkInput(this, x);
    return this.fpropLayers(x, 0, this.layers.length, inference);
  }

  /**
   * Forward through layers [from, to) only; x is layer `from`'s input. In inference no
   * layer keeps its input or output, so each layer's output is dead once the next layer
   * has read it: its buffer goes back to the backend (Backend.release), which may reuse it
   * for the next one (the fast backend does: fresh memory costs page faults). x and the
   * result stay the caller's; an output that shares storage with the next one (a view,
   * or dropout's identity) is handed back only by the last tensor using it.
   */
  fpropLayers(x: Tensor, from: number, to: number, inference = false): Tensor {
    let y = x;
    for (let i = from; i < to;) {
      // a Convolution or Linear with its Bias and Rectlin as one kernel call (./epilogue-fusion.ts)
      const run = this.fuseEpilogues ? epilogueRunAt(this.layers, i, to) : null;
      const layer = this.layers[i]!;
      const next = inLayer(layer, () => (run ? fpropRun(run, y, inference) : layer.fprop(y, inference)));
      if (inference && y !== x && next.storage !== y.storage) y.backend.release(y.storage);
      y = next;
      i += run ? run.length : 1;
    }
    return y;
  }

  /** Index of the lowest layer that needs a backward pass (its params train); layers.length if none. */
  lowestTrainable(): number {
    const i = this.layers.findIndex((l) => isParamLayer(l) && l.computeParamGrads);
    return i < 0 ? this.layers.length : i;
  }

  /** Backward pass of ∂cost/∂output, down to the lowest layer that still trains. */
  bprop(delta: Tensor): void {
    const lowest = this.lowestTrainable();
    let d: Tensor | null = delta;
    for (let i = this.layers.length - 1; i >= lowest && d; i--) d = this.layers[i]!.bprop(d, i > lowest);
  }

  /** Mark layers with learning rate 0 at `epoch` as frozen (no weight gradients). */
  private markFrozen(optimizer: TrainOptimizer, epoch: number): void {
    for (const l of this.layersToOptimize) {
      l.computeParamGrads = optimizer.learningRateFor ? optimizer.learningRateFor(l, epoch) !== 0 : true;
    }
  }

  /** Train for opts.numEpochs epochs (counting from epochIndex, so a resumed model continues), calling the callbacks, as neon's fit. */
  async fit(trainSet: DataIterator, opts: FitOptions): Promise<void> {
    const { optimizer, numEpochs } = opts;
    const callbacks = opts.callbacks ?? [];
    this.optimizer = optimizer;
    this.cost = opts.cost;
    if (this.pendingOptimizerState !== undefined && optimizer.setState) {
      optimizer.setState(this.pendingOptimizerState);
      this.pendingOptimizerState = undefined;
    }
    this.initialize(trainSet.lshape);
    this.stopRequested = false;
    for (const c of callbacks) await c.onTrainBegin?.(this, numEpochs);
    const fc = opts.featureCache;
    const cacheOpts: FeatureCacheOptions = typeof fc === 'boolean' ? { ...this.featureCache, enabled: fc } : { ...this.featureCache, ...fc };
    const loop = epochLoop(); // the exercise track's seam (epoch-loop.ts); null: epochFit below
    if (loop) cacheOpts.enabled = false;
    const forward = planFitForward(this, trainSet, optimizer, numEpochs, cacheOpts);
    this.featureCacheInfo = forward.info;
    const firstEpoch = this.epochIndex;
    try {
      while (this.epochIndex < numEpochs && !this.stopRequested) {
        const epoch = this.epochIndex;
        this.markFrozen(optimizer, epoch);
        const stopped = epoch > firstEpoch ? forward.recheck() : null;
        if (stopped) cacheOpts.log?.(`feature cache: stopped at epoch ${epoch + 1}: ${stopped}`);
        for (const c of callbacks) await c.onEpochBegin?.(this, epoch);
        const trainCost = loop ? await loop(this, trainSet, { optimizer, cost: opts.cost, epoch }) : await this.epochFit(trainSet, forward, opts, epoch);
        if (trainCost === null) break; // an interrupted epoch does not count
        this.epochIndex++;
        for (const c of callbacks) await c.onEpochEnd?.(this, epoch, trainCost);
      }
    } finally {
      forward.close();
    }
    for (const c of callbacks) await c.onTrainEnd?.(this);
  }

  /** One epoch of training, as neon's _epoch_fit; its mean cost, or null when a callback stopped it early. */
  private async epochFit(trainSet: DataIterator, forward: BatchForward, opts: FitOptions, epoch: number): Promise<number | null> {
    const { optimizer, cost } = opts;
    const params = this.layersToOptimize;
    let total = 0;
    let mb = 0;
    for (const batch of forward.batches(trainSet)) {
      const t = tensor(batch.t, batch.tShape);
      const y = forward.fprop(batch);
      const c = cost.getCost(y, t);
      if (!Number.isFinite(c)) {
        throw new TlError(`training diverged: the cost is ${c} at epoch ${epoch + 1}, minibatch ${mb + 1}; lower the learning rate (--lr) or check the data for NaN/Inf values. Checkpoints already written are unchanged.`);
      }
      total += c;
      this.bprop(cost.getErrors(y, t));
      optimizer.optimize(params, epoch, batch.xShape[0]);
      for (const cb of opts.callbacks ?? []) await cb.onMinibatchEnd?.(this, epoch, mb, c, { y, t, valid: batch.valid });
      mb++;
      // Let the event loop run (signal handlers such as Ctrl-C, timers): awaits above
      // resolve as microtasks and would otherwise keep it blocked for the whole fit.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.stopRequested) break;
    }
    if (this.stopRequested && mb < trainSet.nbatches) return null;
    // neon divides by nbatches after the loop (the next epoch's count when the data wraps).
    return total / Math.max(trainSet.nbatches, 1);
  }

  /**
   * How many layers from the input stay exactly as they are through epochs [from, to) of
   * `optimizer` (frozen-prefix.ts says which qualify); 0 when there is none. Their output for
   * an example is then the same in every epoch (fit's feature cache) and in every evaluation
   * (evaluate's frozenBelow). The model must be initialized.
   */
  frozenPrefix(optimizer: TrainOptimizer, from: number, to: number): number {
    return frozenPrefixOf(this.layers, optimizer, from, to).cut;
  }

  /** The forward of an inference pass over `set`, through evaluate's kept prefix cache where frozenBelow > 0. */
  private inferenceForward(set: DataIterator, frozenBelow = 0): BatchForward {
    this.initialize(set.lshape);
    return this.evalCache.forward(this, set, frozenBelow);
  }

  /**
   * One inference pass over the whole set giving at once the metric values (as eval), the
   * outputs (as getOutputs, [ndata, nout] row-major) and each example's target class (argmax
   * of its target row), so a test file is read once for the accuracy and the inference file.
   * `onBatch` sees the examples done so far after every batch (progress).
   */
  evaluate(set: DataIterator, metric: Metric, opts: EvaluateOptions = {}): { metrics: number[]; outputs: Float32Array; nout: number; targets: Int32Array } {
    return evaluatePass(set, this.inferenceForward(set, opts.frozenBelow ?? 0), metric, opts.onBatch);
  }

  /** Metric values over exactly ndata examples (wrapped duplicates excluded). */
  eval(set: DataIterator, metric: Metric): number[] {
    return evaluatePass(set, this.inferenceForward(set), metric).metrics;
  }

  /** Mean cost over exactly ndata examples with inference=True (neon's LossCallback). */
  evalCost(set: DataIterator, cost: GeneralizedCost): number {
    return meanCostPass(set, this.inferenceForward(set), cost);
  }

  /** Model outputs for every example, [ndata, nout]. */
  getOutputs(set: DataIterator): Tensor {
    const { outputs, nout } = evaluatePass(set, this.inferenceForward(set), null);
    return tensor(outputs, [set.ndata, nout]);
  }

  /** Save a name-keyed HDF5 checkpoint (atomic). */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    await saveCheckpoint(this, path, opts);
  }

  /** Load parameters (and states, unless loadStates is false) from a checkpoint. */
  async loadParams(path: string, opts: LoadOptions = {}): Promise<void> {
    await loadCheckpoint(this, path, opts);
  }

  /**
   * The per-layer table (name, type, output shape, parameters, forward MFLOPs) with totals,
   * as `tl-scratch summary` prints it; needs {@link Model.initialize} first.
   */
  summary(): string {
    if (!this.inShape) throw new TlError('model.summary(): call model.initialize(inShape) first (the table lists output shapes)');
    return formatSummary(this);
  }

  /** Every layer's description, in model order. */
  describeLayers(): LayerDescription[] {
    return this.layers.map((l) => l.describe());
  }

  /** neon-like description: the layer list and, with getWeights, every parameter's values. */
  getDescription(opts: { getWeights?: boolean } = {}): Record<string, unknown> {
    return {
      epoch_index: this.epochIndex,
      cost: this.cost?.describe(),
      optimizer: this.optimizer?.describe?.(),
      model: {
        type: 'Sequential',
        layers: this.layers.map((l) => {
          const d: Record<string, unknown> = { ...l.describe() };
          if (opts.getWeights) d.params = Object.fromEntries(l.params().map((p) => [p.name, { shape: [...p.value.shape], values: Array.from(p.value.toHost()) }]));
          return d;
        }),
      },
    };
  }
}
