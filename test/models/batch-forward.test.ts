// BatchForward: a batch's output through the cached frozen prefix equals the full forward
// bit for bit, the prefix runs once per example, the counts land in the info, a changed
// prefix drops the cache, and a bad input gets the model's one message on every path.
import { describe, expect, it } from 'vitest';
import { ArrayIterator } from '../../src/data/iterator.js';
import { Affine, Conv } from '../../src/layers/compound.js';
import { Rectlin, Softmax } from '../../src/layers/activation.js';
import { Pooling } from '../../src/layers/pooling.js';
import { Constant, GlorotUniform, Xavier } from '../../src/layers/initializers.js';
import { BatchForward, EvalPrefixCache } from '../../src/models/batch-forward.js';
import { FeatureCache, type FeatureCacheInfo } from '../../src/models/feature-cache.js';
import { prefixFingerprint } from '../../src/models/frozen-prefix.js';
import { Model } from '../../src/models/model.js';
import { Generator, manualSeed, tensor } from '../../src/index.js';

const LSHAPE: [number, number, number] = [2, 6, 6];
const F = 2 * 6 * 6;

function model(): Model {
  manualSeed(3);
  const m = new Model([
    Conv([3, 3, 4], { padding: 1, init: new Xavier(), bias: new Constant(0.1), activation: Rectlin(), name: 'conv' }),
    new Pooling(2, { name: 'pool' }),
    Affine(3, { init: new GlorotUniform(), bias: new Constant(0), activation: Softmax(), name: 'cls' }),
  ]);
  m.initialize(LSHAPE);
  // The prefix is frozen, as fit marks a layer at learning rate 0.
  for (const l of m.layersToOptimize.slice(0, 2)) l.computeParamGrads = false;
  return m;
}

function set(n = 10, bsz = 4): ArrayIterator {
  const g = new Generator(7);
  const x = Float32Array.from({ length: n * F }, () => g.uniform(-1, 1));
  return new ArrayIterator({ x, y: Array.from({ length: n }, (_, i) => i % 3), nclass: 3, lshape: LSHAPE, bsz });
}

/** Every batch's output of one epoch, as bytes. */
function epoch(f: BatchForward, s: ArrayIterator): Buffer[] {
  s.reset();
  return [...f.batches(s)].map((b) => Buffer.from(f.fprop(b).toHost().buffer.slice(0)));
}

const CUT = 4; // conv, conv_bias, conv_Rectlin, pool

describe('BatchForward', () => {
  it('through a cache: the same bits as the full forward; the prefix runs once per example; counted', () => {
    const m = model();
    const s = set();
    expect(m.layers[CUT]!.name).toBe('cls');
    const full = epoch(new BatchForward(m, true), s);
    let convRows = 0;
    const conv = m.layers[0]!, fprop = conv.fprop.bind(conv);
    conv.fprop = (x, inference) => { convRows += x.shape[0]!; return fprop(x, inference); };
    const info: FeatureCacheInfo = { used: true, reason: '', cachedBatches: 0, computedBatches: 0 };
    const cache = new FeatureCache(s.ndata, m.layers[CUT - 1]!.outShape, false, { memoryBudget: 1 << 20 });
    const f = new BatchForward(m, true, { cache, cut: CUT, print: prefixFingerprint(m.layers, CUT) }, info);
    expect(epoch(f, s)).toEqual(full);
    expect(convRows).toBe(12); // 3 batches of 4 (the last one wraps around)
    expect(epoch(f, s)).toEqual(full);
    expect(convRows).toBe(12); // the head alone
    expect([info.computedBatches, info.cachedBatches]).toEqual([3, 3]);
    expect(f.recheck()).toBeNull();
    f.close();
  });

  it('recheck: a changed prefix drops the cache (info.stopped) and the full forward follows the new weights', () => {
    const m = model();
    const s = set();
    const info: FeatureCacheInfo = { used: true, reason: '', cachedBatches: 0, computedBatches: 0 };
    const cache = new FeatureCache(s.ndata, m.layers[CUT - 1]!.outShape, false, { memoryBudget: 1 << 20 });
    const f = new BatchForward(m, false, { cache, cut: CUT, print: prefixFingerprint(m.layers, CUT) }, info);
    epoch(f, s);
    const w = m.layers[0]!.params()[0]!.value;
    w.setValues(Float32Array.from(w.toHost(), (v) => v * 2));
    expect(f.recheck()).toBe('the weights of the frozen layers changed');
    expect(info.stopped).toBe('the weights of the frozen layers changed');
    expect(epoch(f, s)).toEqual(epoch(new BatchForward(m, false), s));
    expect(info.cachedBatches).toBe(0);
  });

  it('EvalPrefixCache keeps the rows for the same set and weights, renews them otherwise, and obeys featureCache', () => {
    const m = model();
    const s = set();
    const full = epoch(new BatchForward(m, true), s);
    const kept = new EvalPrefixCache();
    let convRows = 0;
    const conv = m.layers[0]!, fprop = conv.fprop.bind(conv);
    conv.fprop = (x, inference) => { convRows += x.shape[0]!; return fprop(x, inference); };
    expect(epoch(kept.forward(m, s, CUT), s)).toEqual(full);
    expect(epoch(kept.forward(m, s, CUT), s)).toEqual(full);
    expect(convRows).toBe(12);
    expect(epoch(kept.forward(m, set(), CUT), s)).toEqual(full); // another set: computed again
    expect(convRows).toBe(24);
    m.featureCache = { enabled: false };
    epoch(kept.forward(m, s, CUT), s);
    expect(convRows).toBe(36);
  });

  it('a bad input gets the same message from fprop and from every path of a BatchForward', () => {
    const fresh = new Model([Affine(2, { init: new GlorotUniform(), name: 'fc' })]);
    expect(() => fresh.fprop(tensor(new Float32Array(4), [1, 4]))).toThrow('model: not initialized; call initialize([C, H, W]) or fit() first');
    const m = model();
    const x = tensor(new Float32Array(3 * 36), [1, 3, 6, 6]);
    const msg = 'model: input examples have shape [3, 6, 6], the model was built for [2, 6, 6]';
    expect(() => m.fprop(x)).toThrow(msg);
    const batch = { x: x.toHost() as Float32Array, xShape: [1, 3, 6, 6] as [number, number, number, number], t: new Float32Array(3), tShape: [1, 3] as [number, number], valid: 1, rows: Int32Array.of(0) };
    expect(() => new BatchForward(m, true).fprop(batch)).toThrow(msg);
    const cache = new FeatureCache(1, m.layers[CUT - 1]!.outShape, false, { memoryBudget: 1 << 20 });
    expect(() => new BatchForward(m, false, { cache, cut: CUT, print: '' }).fprop(batch)).toThrow(msg);
  });
});
