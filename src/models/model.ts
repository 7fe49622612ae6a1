// A Model is neon's Sequential container: a list of layers, the training loop (fit), and
// evaluation (eval, getOutputs) with neon's exact semantics (neon/models/model.py; docs/neon-notes.md).
//
// Frozen layers (beyond neon): a parameter layer whose optimizer gives it learning rate 0
// at this epoch computes no weight gradient, and backward stops at the lowest layer that
// still trains, so feature extraction costs little more than a forward pass.
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

/** What fit needs from an optimizer (src/optim implements it). */
export interface TrainOptimizer {
  optimize(layers: ParamLayer[], epoch: number, bsz: number): void;
  /** Learning rate a layer gets at an epoch; 0 marks it frozen. Optional. */
  learningRateFor?(layer: ParamLayer, epoch: number): number;
  getState?(): unknown;
  setState?(state: unknown): void;
  describe?(): Record<string, unknown>;
}

export interface FitOptions {
  optimizer: TrainOptimizer;
  numEpochs: number;
  cost: GeneralizedCost;
  callbacks?: Callback[];
}

export function isParamLayer(l: Layer): l is Layer & ParamLayer {
  return 'computeParamGrads' in l && l.params().length > 0;
}

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

  get outShape(): readonly number[] {
    return this.layers[this.layers.length - 1]!.outShape;
  }

  /** Parameter layers in model order (neon's layers_to_optimize). */
  get layersToOptimize(): (Layer & ParamLayer)[] {
    return this.layers.filter(isParamLayer);
  }

  layer(name: string): Layer | undefined {
    return this.layers.find((l) => l.name === name);
  }

  fprop(x: Tensor, inference = false): Tensor {
    this.checkInput(x);
    let y = x;
    for (const l of this.layers) y = l.fprop(y, inference);
    return y;
  }

  /** Index of the lowest layer that needs a backward pass (its params train); layers.length if none. */
  lowestTrainable(): number {
    const i = this.layers.findIndex((l) => isParamLayer(l) && l.computeParamGrads);
    return i < 0 ? this.layers.length : i;
  }

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
    while (this.epochIndex < numEpochs && !this.stopRequested) {
      const epoch = this.epochIndex;
      this.markFrozen(optimizer, epoch);
      for (const c of callbacks) await c.onEpochBegin?.(this, epoch);
      let total = 0;
      let mb = 0;
      for (const batch of trainSet.batches()) {
        const x = tensor(batch.x, batch.xShape);
        const t = tensor(batch.t, batch.tShape);
        const y = this.fprop(x, false);
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
    for (const c of callbacks) await c.onTrainEnd?.(this);
  }

  /** Run inference over the whole set; `visit` sees each batch's outputs and its valid row count. */
  private forEachInference(set: DataIterator, visit: (y: Tensor, t: Tensor, valid: number) => void, onBatch?: (done: number, total: number) => void): void {
    this.initialize(set.lshape);
    set.reset();
    let processed = 0;
    for (const batch of set.batches()) {
      const y = this.fprop(tensor(batch.x, batch.xShape), true);
      const valid = Math.min(set.ndata - processed, batch.xShape[0], batch.valid);
      visit(y, tensor(batch.t, batch.tShape), valid);
      processed += valid;
      onBatch?.(processed, set.ndata);
      if (processed >= set.ndata) break;
    }
    set.reset();
  }

  /**
   * One inference pass over the whole set giving at once the metric values (as eval), the
   * outputs (as getOutputs, [ndata, nout] row-major) and each example's target class (argmax
   * of its target row), so a test file is read once for the accuracy and the inference file.
   * `onBatch` sees the examples done so far after every batch (progress).
   */
  evaluate(set: DataIterator, metric: Metric, opts: { onBatch?: (done: number, total: number) => void } = {}): { metrics: number[]; outputs: Float32Array; nout: number; targets: Int32Array } {
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
    }, opts.onBatch);
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
