// A batch's forward pass, the one place that decides between the full forward and the
// cached frozen prefix. Model.fit and Model's inference passes (eval, evaluate, getOutputs)
// both go through a BatchForward: without a cache it runs every layer; with one (layers
// [0, cut) frozen, see frozen-prefix.ts) a batch whose examples are all cached runs the
// head alone on their cached rows, and any other batch runs the prefix, stores its rows
// and runs the head on the same tensor. The head sees the same input bits either way
// (feature-cache.ts says why), so the outputs equal the uncached pass bit for bit.
//
// Where the cache comes from: fit plans one per run (planFitForward: the prefix must stay
// frozen for every epoch left), and evaluate keeps one per test set between evaluations
// (EvalPrefixCache: checked against the prefix's weights each time).
import type { Batch, DataIterator } from '../data/iterator.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../autograd/ops/create.js';
import { shapeStr } from '../tensor/shape.js';
import { TlError } from '../util/errors.js';
import { DEFAULT_FEATURE_CACHE_BUDGET, FeatureCache, type FeatureCacheInfo, type FeatureCacheOptions } from './feature-cache.js';
import { frozenPrefixOf, layerRange, prefixChanged, prefixFingerprint, prefixIsFloat64 } from './frozen-prefix.js';
import type { Model, TrainOptimizer } from './model.js';

/** Layers [0, cut) whose outputs `cache` holds, and the fingerprint of their weights when it was made. */
interface CachedPrefix {
  readonly cache: FeatureCache;
  readonly cut: number;
  readonly print: string;
}

/** Throws the user's error when x [N, ...] does not fit the model's input shape (or the model has none yet). */
export function checkInput(model: Model, x: Tensor): void {
  if (!model.inShape) throw new TlError('model: not initialized; call initialize([C, H, W]) or fit() first');
  const s = x.shape.slice(1);
  if (shapeStr(s) !== shapeStr(model.inShape)) {
    throw new TlError(`model: input examples have shape ${shapeStr(s)}, the model was built for ${shapeStr(model.inShape)}`);
  }
}

/** The model's output for each batch of a set, through the cached frozen prefix where there is one. */
export class BatchForward {
  /**
   * @param model the model, initialized
   * @param inference whether this is an inference pass (layers keep nothing for backward)
   * @param prefix the cached prefix, or null for the full forward of every batch
   * @param info where the cached and computed batches are counted (fit's FeatureCacheInfo)
   */
  constructor(
    private readonly model: Model,
    private readonly inference: boolean,
    private prefix: CachedPrefix | null = null,
    readonly info: FeatureCacheInfo | null = null,
  ) {}

  /** One epoch of the set's batches; with a cache, a batch whose examples are all cached comes without its inputs. */
  batches(set: DataIterator): Iterable<Batch> {
    const cache = this.prefix?.cache;
    return cache ? set.batches({ needInputs: (rows) => !cache.hasAll(rows) }) : set.batches();
  }

  /** The model's output for the batch, [bsz, ...outShape]. */
  fprop(batch: Batch): Tensor {
    const { model, inference, prefix } = this;
    const L = model.layers.length;
    if (!prefix) return model.fprop(tensor(batch.x, batch.xShape), inference);
    const { cache, cut } = prefix;
    if (batch.x.length === 0 || cache.hasAll(batch.rows)) {
      // Every example of the batch has its frozen features cached: run the head only.
      const h = tensor(cache.gather(batch.rows), [batch.rows.length, ...cache.shape]);
      if (this.info) this.info.cachedBatches++;
      return model.fpropLayers(h, cut, L, inference);
    }
    const x = tensor(batch.x, batch.xShape);
    checkInput(model, x);
    const h = model.fpropLayers(x, 0, cut, inference);
    cache.put(batch.rows, h.toHost());
    if (this.info) this.info.computedBatches++;
    return model.fpropLayers(h, cut, L, inference);
  }

  /**
   * At an epoch start: when the cached prefix no longer holds (one of its layers trains now,
   * or its weights changed), drop the cache and run the full forward from now on. Returns why,
   * or null while the cache holds (or there is none).
   */
  recheck(): string | null {
    if (!this.prefix) return null;
    const why = prefixChanged(this.model.layers, this.prefix.cut, this.prefix.print);
    if (why) {
      this.close();
      if (this.info) this.info.stopped = why;
    }
    return why;
  }

  /** Drop the cache (its temporary file too); later batches run the full forward. */
  close(): void {
    this.prefix?.cache.close();
    this.prefix = null;
  }
}

/**
 * fit's forward for a run of epochs [model.epochIndex, numEpochs): through a feature cache of
 * the frozen prefix where there is one and `o` allows it, else the full forward. Its info says
 * which, and why; the one line saying how the cache is used goes to o.log.
 */
export function planFitForward(model: Model, trainSet: DataIterator, optimizer: TrainOptimizer, numEpochs: number, o: FeatureCacheOptions): BatchForward {
  const skip = (reason: string) => new BatchForward(model, false, null, { used: false, reason, cachedBatches: 0, computedBatches: 0 });
  if (o.enabled === false) return skip('turned off');
  const { layers } = model;
  const { cut, why } = frozenPrefixOf(layers, optimizer, model.epochIndex, numEpochs);
  if (cut === 0) return skip(why);
  const budget = o.memoryBudget ?? DEFAULT_FEATURE_CACHE_BUDGET;
  const cache = new FeatureCache(trainSet.ndata, layers[cut - 1]!.outShape, prefixIsFloat64(layers, cut), { memoryBudget: budget, tmpDir: o.tmpDir });
  const where = cache.storage === 'memory' ? 'in memory'
    : `in a temporary file (${(cache.bytes / 2 ** 20).toFixed(1)} MiB, above the ${(budget / 2 ** 20).toFixed(0)} MiB memory budget)`;
  const line = `feature cache: layers ${layerRange(layers, cut)} frozen, caching ${cache.F} floats per image ${where}`;
  o.log?.(line);
  const info: FeatureCacheInfo = { used: true, reason: line, cut, floatsPerExample: cache.F, storage: cache.storage, cachedBatches: 0, computedBatches: 0 };
  return new BatchForward(model, false, { cache, cut, print: prefixFingerprint(layers, cut) }, info);
}

/**
 * evaluate's cache of layers [0, cut)'s outputs for one set, kept from one evaluation to the
 * next while it is the same set, the same cut and the same prefix weights (fingerprint).
 */
export class EvalPrefixCache {
  private kept: CachedPrefix & { set: DataIterator } | null = null;

  /**
   * The inference forward for a pass over `set` with layers [0, cut) cached: the kept cache
   * when it still holds, else a new one; the full forward where cut is 0, caching is turned
   * off (model.featureCache.enabled false) or the rows would take more memory than the
   * feature cache's budget (evaluation never spills to a file).
   */
  forward(model: Model, set: DataIterator, cut: number): BatchForward {
    const full = new BatchForward(model, true);
    if (cut <= 0 || model.featureCache.enabled === false) return full;
    const print = prefixFingerprint(model.layers, cut);
    const kept = this.kept;
    if (kept && kept.set === set && kept.cut === cut && kept.print === print) return new BatchForward(model, true, kept);
    kept?.cache.close();
    this.kept = null;
    const budget = model.featureCache.memoryBudget ?? DEFAULT_FEATURE_CACHE_BUDGET;
    const cache = new FeatureCache(set.ndata, model.layers[cut - 1]!.outShape, prefixIsFloat64(model.layers, cut), { memoryBudget: budget });
    if (cache.storage !== 'memory') return full;
    this.kept = { set, cut, print, cache };
    return new BatchForward(model, true, this.kept);
  }
}
