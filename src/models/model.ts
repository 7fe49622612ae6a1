// A Model is neon's Sequential container: a list of layers, the training loop (fit), and
// evaluation (eval, getOutputs) with neon's exact semantics (neon/models/model.py; docs/neon-notes.md).
//
// Frozen layers (beyond neon): a parameter layer whose optimizer gives it learning rate 0
// at this epoch computes no weight gradient, and backward stops at the lowest layer that
// still trains, so feature extraction costs little more than a forward pass.
//
// Cached frozen features (beyond neon, same results): when the lowest layers stay frozen
// for the whole run, fit computes their output once per example and trains the later
// epochs on it (see feature-cache.ts; Model.featureCache turns it off). evaluate keeps the
// same prefix's outputs for a test set between evaluations while those layers' weights
// stay as they were (frozenBelow), so evaluating every epoch costs the head alone.
import type { DataIterator } from '../data/iterator.js';
import type { Layer, LayerDescription } from '../layers/layer.js';
import type { ParamLayer } from '../layers/param.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../autograd/ops/create.js';
import { shapeStr } from '../tensor/shape.js';
import { TlError } from '../util/errors.js';
import type { Callback } from './callbacks.js';
import type { GeneralizedCost } from './cost.js';
import type { Metric } from './metrics.js';
import { loadCheckpoint, saveCheckpoint, type LoadOptions, type SaveOptions } from './checkpoint.js';
import { formatSummary } from './summary.js';
import {
  DEFAULT_FEATURE_CACHE_BUDGET,
  FeatureCache,
  fingerprint,
  isDeterministicLayer,
  layerRange,
  type FeatureCacheInfo,
  type FeatureCacheOptions,
} from './feature-cache.js';

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

/** The cache of one fit and what it covers. */
interface ActiveCache {
  cache: FeatureCache;
  /** The head starts at this layer. */
  cut: number;
  /** Fingerprint of the frozen layers' parameters when the cache was made. */
  print: string;
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

export function isParamLayer(l: Layer): l is Layer & ParamLayer {
  return 'computeParamGrads' in l && l.params().length > 0;
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
  /** The frozen prefix's outputs for the last set evaluated with frozenBelow (see evaluate). */
  private evalCache: ActiveCache & { set: DataIterator } | null = null;

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
    for (const l of this.layers) shape = l.configure(shape);
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
    this.checkInput(x);
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
    for (let i = from; i < to; i++) {
      const next = this.layers[i]!.fprop(y, inference);
      if (inference && y !== x && next.storage !== y.storage) y.backend.release(y.storage);
      y = next;
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

  private checkInput(x: Tensor): void {
    if (!this.inShape) throw new TlError('model: not initialized; call initialize([C, H, W]) or fit() first');
    const s = x.shape.slice(1);
    if (shapeStr(s) !== shapeStr(this.inShape)) {
      throw new TlError(`model: input examples have shape ${shapeStr(s)}, the model was built for ${shapeStr(this.inShape)}`);
    }
  }

  /** Mark layers with learning rate 0 at `epoch` as frozen (no weight gradients). */
  private markFrozen(optimizer: TrainOptimizer, epoch: number): void {
    for (const l of this.layersToOptimize) {
      l.computeParamGrads = optimizer.learningRateFor ? optimizer.learningRateFor(l, epoch) !== 0 : true;
    }
  }

  /** Train for opts.numEpochs epochs (counting from epochIndex, so a resumed model continues), calling the callbacks, as neon's fit. */
  async fit(trainSet: DataIterator, opts: FitOptions): Promise<void> {
    const { optimizer, numEpochs, cost } = opts;
    const callbacks = opts.callbacks ?? [];
    this.optimizer = optimizer;
    this.cost = cost;
    if (this.pendingOptimizerState !== undefined && optimizer.setState) {
      optimizer.setState(this.pendingOptimizerState);
      this.pendingOptimizerState = undefined;
    }
    this.initialize(trainSet.lshape);
    this.stopRequested = false;
    for (const c of callbacks) await c.onTrainBegin?.(this, numEpochs);
    const params = this.layersToOptimize;
    const fc = opts.featureCache;
    const cacheOpts: FeatureCacheOptions = typeof fc === 'boolean' ? { ...this.featureCache, enabled: fc } : { ...this.featureCache, ...fc };
    let active = this.planFeatureCache(trainSet, optimizer, numEpochs, cacheOpts);
    const info = this.featureCacheInfo!;
    const firstEpoch = this.epochIndex;
    try {
      while (this.epochIndex < numEpochs && !this.stopRequested) {
        const epoch = this.epochIndex;
        this.markFrozen(optimizer, epoch);
        if (active && epoch > firstEpoch) {
          const why = this.cacheInvalidReason(active);
          if (why) {
            active.cache.close();
            active = null;
            info.stopped = why;
            cacheOpts.log?.(`feature cache: stopped at epoch ${epoch + 1}: ${why}`);
          }
        }
        for (const c of callbacks) await c.onEpochBegin?.(this, epoch);
        let total = 0;
        let mb = 0;
        const cache = active?.cache ?? null;
        const batches = cache ? trainSet.batches({ needInputs: (rows) => !cache.hasAll(rows) }) : trainSet.batches();
        for (const batch of batches) {
          const t = tensor(batch.t, batch.tShape);
          let y: Tensor;
          if (active && cache && (batch.x.length === 0 || cache.hasAll(batch.rows))) {
            // Every example of the batch has its frozen features cached: run the head only.
            const h = tensor(cache.gather(batch.rows), [batch.rows.length, ...cache.shape]);
            y = this.fpropLayers(h, active.cut, this.layers.length, false);
            info.cachedBatches++;
          } else {
            const x = tensor(batch.x, batch.xShape);
            this.checkInput(x);
            if (active && cache) {
              const h = this.fpropLayers(x, 0, active.cut, false);
              cache.put(batch.rows, h.toHost());
              y = this.fpropLayers(h, active.cut, this.layers.length, false);
              info.computedBatches++;
            } else {
              y = this.fpropLayers(x, 0, this.layers.length, false);
            }
          }
          const c = cost.getCost(y, t);
          if (!Number.isFinite(c)) {
            throw new TlError(`training diverged: the cost is ${c} at epoch ${epoch + 1}, minibatch ${mb + 1}; lower the learning rate (--lr) or check the data for NaN/Inf values. Checkpoints already written are unchanged.`);
          }
          total += c;
          this.bprop(cost.getErrors(y, t));
          optimizer.optimize(params, epoch, batch.xShape[0]);
          for (const cb of callbacks) await cb.onMinibatchEnd?.(this, epoch, mb, c, { y, t, valid: batch.valid });
          mb++;
          // Let the event loop run (signal handlers such as Ctrl-C, timers): awaits above
          // resolve as microtasks and would otherwise keep it blocked for the whole fit.
          await new Promise((resolve) => setImmediate(resolve));
          if (this.stopRequested) break;
        }
        if (this.stopRequested && mb < trainSet.nbatches) break; // an interrupted epoch does not count
        // neon divides by nbatches after the loop (the next epoch's count when the data wraps).
        const trainCost = total / Math.max(trainSet.nbatches, 1);
        this.epochIndex++;
        for (const c of callbacks) await c.onEpochEnd?.(this, epoch, trainCost);
      }
    } finally {
      active?.cache.close();
    }
    for (const c of callbacks) await c.onTrainEnd?.(this);
  }

  /**
   * Whether fit can cache the output of the lowest layers, and up to which layer: the
   * longest run of deterministic layers from the input whose parameter layers all have
   * learning rate 0 at every epoch left in this run and zero (or no) optimizer states, with
   * at least one parameter layer in it. Sets featureCacheInfo either way.
   */
  private planFeatureCache(trainSet: DataIterator, optimizer: TrainOptimizer, numEpochs: number, o: FeatureCacheOptions): ActiveCache | null {
    const skip = (reason: string): null => {
      this.featureCacheInfo = { used: false, reason, cachedBatches: 0, computedBatches: 0 };
      return null;
    };
    if (o.enabled === false) return skip('turned off');
    const { cut, why } = this.frozenPrefixOf(optimizer, this.epochIndex, numEpochs);
    if (cut === 0) return skip(why);
    const frozen = this.layers.slice(0, cut).filter(isParamLayer);
    const float64 = frozen[0]!.params()[0]!.value.dtype === 'float64';
    const budget = o.memoryBudget ?? DEFAULT_FEATURE_CACHE_BUDGET;
    const cache = new FeatureCache(trainSet.ndata, this.layers[cut - 1]!.outShape, float64, { memoryBudget: budget, tmpDir: o.tmpDir });
    const where = cache.storage === 'memory' ? 'in memory'
      : `in a temporary file (${(cache.bytes / 2 ** 20).toFixed(1)} MiB, above the ${(budget / 2 ** 20).toFixed(0)} MiB memory budget)`;
    const line = `feature cache: layers ${layerRange(this.layers, cut)} frozen, caching ${cache.F} floats per image ${where}`;
    this.featureCacheInfo = { used: true, reason: line, cut, floatsPerExample: cache.F, storage: cache.storage, cachedBatches: 0, computedBatches: 0 };
    o.log?.(line);
    return { cache, cut, print: this.frozenFingerprint(cut) };
  }

  /**
   * How many layers from the input stay exactly as they are through epochs [from, to) of
   * `optimizer`: the longest run of deterministic layers whose parameter layers all have
   * learning rate 0 at every one of those epochs and zero (or no) optimizer states, with at
   * least one parameter layer in it; 0 when there is none. Their output for an example is
   * then the same in every epoch (fit's feature cache) and in every evaluation (evaluate's
   * frozenBelow). The model must be initialized.
   */
  frozenPrefix(optimizer: TrainOptimizer, from: number, to: number): number {
    return this.frozenPrefixOf(optimizer, from, to).cut;
  }

  /** frozenPrefix, with the reason the prefix stops (or why there is none). */
  private frozenPrefixOf(optimizer: TrainOptimizer, from: number, to: number): { cut: number; why: string } {
    const lrFor = optimizer.learningRateFor?.bind(optimizer);
    if (!lrFor) return { cut: 0, why: 'the optimizer gives no per-layer learning rates' };
    if (to - from < 2) return { cut: 0, why: 'fewer than two epochs to train: nothing to reuse' };
    let cut = 0;
    let stop = 'every layer is frozen';
    for (; cut < this.layers.length; cut++) {
      const l = this.layers[cut]!;
      if (!isDeterministicLayer(l)) {
        stop = `'${l.name}' (${l.className}) ${l.className === 'Dropout' ? 'draws random numbers in training' : 'is not known to be deterministic'}`;
        break;
      }
      if (!isParamLayer(l)) continue;
      let trains = -1;
      for (let e = from; e < to && trains < 0; e++) if (lrFor(l, e) !== 0) trains = e;
      if (trains >= 0) {
        stop = `'${l.name}' trains (learning rate ${lrFor(l, trains)} at epoch ${trains + 1})`;
        break;
      }
    }
    const frozen = this.layers.slice(0, cut).filter(isParamLayer);
    if (!frozen.length) return { cut: 0, why: `no frozen layer at the bottom of the model: ${stop}` };
    for (const l of frozen) {
      for (const p of l.params()) {
        for (const st of p.states) {
          const v = st.toHost();
          for (let i = 0; i < v.length; i++) {
            if (v[i] !== 0) return { cut: 0, why: `'${l.name}' has a non-zero optimizer state (momentum velocity, e.g. from a checkpoint), which moves its weights even at learning rate 0` };
          }
        }
      }
    }
    return { cut, why: stop };
  }

  private frozenFingerprint(cut: number): string {
    return fingerprint(this.layers.slice(0, cut).filter(isParamLayer).flatMap((l) => l.params().map((p) => p.value.toHost())));
  }

  /** Why the cache no longer holds at this epoch's start, or null while it does. */
  private cacheInvalidReason(a: ActiveCache): string | null {
    for (const l of this.layers.slice(0, a.cut)) {
      if (isParamLayer(l) && l.computeParamGrads) return `'${l.name}' trains at this epoch`;
    }
    if (this.frozenFingerprint(a.cut) !== a.print) return 'the weights of the frozen layers changed';
    return null;
  }

  /** Run inference over the whole set; `visit` sees each batch's outputs and its valid row count. */
  private forEachInference(set: DataIterator, visit: (y: Tensor, t: Tensor, valid: number) => void, onBatch?: (done: number, total: number) => void, frozenBelow = 0): void {
    this.initialize(set.lshape);
    set.reset();
    const cache = frozenBelow > 0 ? this.evalFeatureCache(set, frozenBelow) : null;
    const L = this.layers.length;
    let processed = 0;
    for (const batch of cache ? set.batches({ needInputs: (rows) => !cache.hasAll(rows) }) : set.batches()) {
      let y: Tensor;
      if (cache && cache.hasAll(batch.rows)) {
        y = this.fpropLayers(tensor(cache.gather(batch.rows), [batch.rows.length, ...cache.shape]), frozenBelow, L, true);
      } else if (cache) {
        const x = tensor(batch.x, batch.xShape);
        this.checkInput(x);
        const h = this.fpropLayers(x, 0, frozenBelow, true);
        cache.put(batch.rows, h.toHost());
        y = this.fpropLayers(h, frozenBelow, L, true);
      } else {
        y = this.fprop(tensor(batch.x, batch.xShape), true);
      }
      const valid = Math.min(set.ndata - processed, batch.xShape[0], batch.valid);
      visit(y, tensor(batch.t, batch.tShape), valid);
      processed += valid;
      onBatch?.(processed, set.ndata);
      if (processed >= set.ndata) break;
    }
    set.reset();
  }

  /**
   * The cache of layers [0, cut)'s outputs for `set`: the one kept from the last evaluation
   * when it was made for this set and cut from the same weights (fingerprint), else a new one;
   * null where caching is turned off (featureCache.enabled false) or would take more memory
   * than the feature cache's budget (evaluation never spills to a file).
   */
  private evalFeatureCache(set: DataIterator, cut: number): FeatureCache | null {
    if (this.featureCache.enabled === false) return null;
    const print = this.frozenFingerprint(cut);
    const kept = this.evalCache;
    if (kept && kept.set === set && kept.cut === cut && kept.print === print) return kept.cache;
    kept?.cache.close();
    this.evalCache = null;
    const float64 = this.layers.slice(0, cut).filter(isParamLayer)[0]?.params()[0]?.value.dtype === 'float64';
    const cache = new FeatureCache(set.ndata, this.layers[cut - 1]!.outShape, float64, { memoryBudget: this.featureCache.memoryBudget ?? DEFAULT_FEATURE_CACHE_BUDGET });
    if (cache.storage !== 'memory') return null;
    this.evalCache = { set, cut, print, cache };
    return cache;
  }

  /**
   * One inference pass over the whole set giving at once the metric values (as eval), the
   * outputs (as getOutputs, [ndata, nout] row-major) and each example's target class (argmax
   * of its target row), so a test file is read once for the accuracy and the inference file.
   * `onBatch` sees the examples done so far after every batch (progress).
   */
  evaluate(set: DataIterator, metric: Metric, opts: EvaluateOptions = {}): { metrics: number[]; outputs: Float32Array; nout: number; targets: Int32Array } {
    const sums = metric.names.map(() => 0);
    const targets = new Int32Array(set.ndata);
    let outputs: Float32Array | null = null;
    let nout = 0;
    let row = 0;
    this.forEachInference(set, (y, t, valid) => {
      nout = y.size / y.shape[0]!;
      const yd = y.toHost() as Float32Array;
      const td = t.toHost() as Float32Array;
      const K = t.shape[1]!;
      metric.sum(yd, td, nout, valid).forEach((v, i) => (sums[i]! += v));
      outputs ??= new Float32Array(set.ndata * nout);
      outputs.set(yd.subarray(0, valid * nout), row * nout);
      for (let i = 0; i < valid; i++, row++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (td[i * K + k]! > td[i * K + best]!) best = k;
        targets[row] = best;
      }
    }, opts.onBatch, opts.frozenBelow ?? 0);
    return { metrics: sums.map((v) => v / set.ndata), outputs: outputs ?? new Float32Array(0), nout, targets };
  }

  /** Metric values over exactly ndata examples (wrapped duplicates excluded). */
  eval(set: DataIterator, metric: Metric): number[] {
    const sums = metric.names.map(() => 0);
    this.forEachInference(set, (y, t, valid) => {
      const K = y.size / y.shape[0]!;
      metric.sum(y.toHost() as Float32Array, t.toHost() as Float32Array, K, valid).forEach((v, i) => (sums[i]! += v));
    });
    return sums.map((s) => s / set.ndata);
  }

  /** Mean cost over exactly ndata examples with inference=True (neon's LossCallback). */
  evalCost(set: DataIterator, cost: GeneralizedCost): number {
    let s = 0;
    this.forEachInference(set, (y, t, valid) => {
      for (const c of cost.costs(y, t, valid)) s += c;
    });
    return s / set.ndata;
  }

  /** Model outputs for every example, [ndata, nout]. */
  getOutputs(set: DataIterator): Tensor {
    let out: Float32Array | null = null;
    let nout = 0;
    let row = 0;
    this.forEachInference(set, (y, _t, valid) => {
      nout = y.size / y.shape[0]!;
      out ??= new Float32Array(set.ndata * nout);
      out.set(y.toHost().subarray(0, valid * nout), row * nout);
      row += valid;
    });
    return tensor(out ?? new Float32Array(0), [set.ndata, nout]);
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
