// Cached frozen features: fit with the cache must give exactly the
// bits of fit without it (weights, velocities, costs, outputs, metrics), and must not cache
// where that could differ.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ArrayIterator, type DataIterator } from '../../src/data/iterator.js';
import { HDF5IteratorOneHot } from '../../src/data/hdf5.js';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { Dropout } from '../../src/layers/dropout.js';
import { Accuracy } from '../../src/models/metrics.js';
import { Model } from '../../src/models/model.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import type { Callback } from '../../src/models/callbacks.js';
import type { FeatureCacheOptions } from '../../src/models/feature-cache.js';
import { GradientDescentMomentum, MultiOptimizer, type Optimizer } from '../../src/optim/index.js';
import { StepSchedule } from '../../src/optim/schedule.js';
import { transferOptimizer } from '../../src/transfer/experiment.js';
import { runExperiment } from '../../src/transfer/experiment.js';
import { Generator, manualSeed, tensor } from '../../src/index.js';
import { withBackend } from '../../src/kernels/index.js';
import { allBackends } from '../helpers/backends.js';

const LSHAPE = [3, 32, 32] as const;
const F = 3 * 32 * 32;

function randomSet(n: number, seed: number) {
  const g = new Generator(seed);
  const x = new Float32Array(n * F);
  for (let i = 0; i < x.length; i++) x[i] = g.uniform(-1, 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = (i * 7 + seed) % 2;
  return { x, y };
}

const TRAIN = randomSet(30, 1);
const TEST = randomSet(12, 2);

function iterators(o: { bsz?: number; shuffle?: boolean } = {}) {
  // 30 examples, batch 7: the last batch of every epoch wraps around (neon's rule).
  const train = new ArrayIterator({ ...TRAIN, nclass: 2, lshape: [...LSHAPE], bsz: o.bsz ?? 7, shuffle: o.shuffle ?? false, seed: 5 });
  const test = new ArrayIterator({ ...TEST, nclass: 2, lshape: [...LSHAPE], bsz: 5 });
  return { train, test };
}

/** The lab's reduced transfer model, dropout on (keep 0.5), seeded. */
function tinyModel(seed = 11, wrap?: (layers: Model['layers']) => Model['layers']): Model {
  manualSeed(seed);
  const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  if (!wrap) return m;
  const w = new Model(wrap(m.layers));
  w.cost = m.cost;
  return w;
}

/** Every conv layer and its bias, as the experiments import them. */
const convNames = (m: Model) => m.layersToOptimize.filter((l) => /^conv\d_\d(_bias)?$/.test(l.name)).map((l) => l.name);

/** The extract experiment's optimizer: imported layers at learning rate 0, momentum 0.9, weight decay. */
function extractOptimizer(m: Model, scale = 0): Optimizer {
  return transferOptimizer(convNames(m), { lr: 0.01, momentum: 0.9, wdecay: 0.0005, importedLrScale: scale });
}

/** Everything a run produces, as bytes: weights, optimizer states, per-minibatch costs and outputs, epoch costs. */
interface Trace {
  params: Map<string, Uint8Array>;
  costs: number[];
  epochCosts: number[];
  outputs: Uint8Array[];
}

function bytes(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function recorder(trace: Trace): Callback {
  return {
    onMinibatchEnd: (_m, _e, _mb, c, b) => {
      trace.costs.push(c);
      trace.outputs.push(bytes(b!.y.toHost()));
    },
    onEpochEnd: (_m, _e, c) => {
      trace.epochCosts.push(c);
    },
  };
}

function newTrace(): Trace {
  return { params: new Map(), costs: [], epochCosts: [], outputs: [] };
}

function snapshot(m: Model, trace: Trace): Trace {
  for (const l of m.layersToOptimize) {
    for (const p of l.params()) {
      trace.params.set(`${l.name}.${p.name}`, bytes(p.value.toHost()));
      p.states.forEach((s, i) => trace.params.set(`${l.name}.${p.name}.state${i}`, bytes(s.toHost())));
    }
  }
  return trace;
}

/** Byte-for-byte equality of two traces, naming the first difference. */
function expectSameBits(a: Trace, b: Trace): void {
  expect([...b.params.keys()]).toEqual([...a.params.keys()]);
  for (const [k, v] of a.params) expect(Buffer.compare(Buffer.from(v), Buffer.from(b.params.get(k)!)), k).toBe(0);
  expect(b.costs).toEqual(a.costs);
  expect(b.epochCosts).toEqual(a.epochCosts);
  expect(b.outputs.length).toBe(a.outputs.length);
  a.outputs.forEach((o, i) => expect(Buffer.compare(Buffer.from(o), Buffer.from(b.outputs[i]!)), `outputs of minibatch ${i + 1}`).toBe(0));
}

interface RunSpec {
  /** FitOptions.featureCache; undefined: the model's setting. */
  cache?: FeatureCacheOptions | boolean;
  epochs?: number;
  shuffle?: boolean;
  bsz?: number;
  optimizer?: (m: Model) => Optimizer;
  model?: () => Model;
  before?: (m: Model) => void;
  callbacks?: (m: Model) => Callback[];
}

async function run(s: RunSpec): Promise<{ model: Model; trace: Trace }> {
  const { train } = iterators({ shuffle: s.shuffle, bsz: s.bsz });
  const model = s.model ? s.model() : tinyModel();
  model.initialize(train.lshape);
  s.before?.(model);
  const trace = newTrace();
  manualSeed(99); // dropout masks
  await model.fit(train, {
    optimizer: (s.optimizer ?? extractOptimizer)(model), numEpochs: s.epochs ?? 3, cost: model.cost!,
    callbacks: [recorder(trace), ...(s.callbacks?.(model) ?? [])], featureCache: s.cache,
  });
  return { model, trace: snapshot(model, trace) };
}

describe('iterators: batches({ needInputs }) skips reading the inputs of batches the loop has cached', () => {
  async function check(open: () => Promise<DataIterator>) {
    const a = await open(), b = await open();
    const all = [...a.batches()];
    const asked: number[][] = [];
    const some = [...b.batches({ needInputs: (rows) => { asked.push([...rows]); return rows[0]! % 2 === 0; } })];
    expect(asked).toEqual(all.map((x) => [...x.rows]));
    expect(some.map((x) => [x.valid, [...x.rows], [...x.t], x.xShape])).toEqual(all.map((x) => [x.valid, [...x.rows], [...x.t], x.xShape]));
    some.forEach((x, i) => expect(x.x.length === 0 ? x.rows[0]! % 2 === 1 : Buffer.compare(Buffer.from(bytes(x.x)), Buffer.from(bytes(all[i]!.x))) === 0).toBe(true));
    expect(some.some((x) => x.x.length === 0) && some.some((x) => x.x.length > 0)).toBe(true);
    a.close();
    b.close();
  }
  it('ArrayIterator (shuffled, wrap-around)', async () => {
    await check(async () => iterators({ shuffle: true }).train);
  });
  it('HDF5IteratorOneHot (mean subtracted)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fcache-h5-'));
    try {
      const path = join(dir, 'train.h5');
      await writeNeonH5(path, { x: Uint8Array.from(TRAIN.x, (v) => Math.round((v + 1) * 100)), lshape: [...LSHAPE], labels: TRAIN.y, nclass: 2, mean: Float32Array.from([1, 2, 3]) });
      await check(() => HDF5IteratorOneHot.open(path, { bsz: 7 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cached frozen features: the same bits as without the cache', () => {
  it('extract-like optimizer, shuffled, batch 7 of 30 (wrap-around), 3 epochs, dropout in the head', async () => {
    const off = await run({ cache: false, shuffle: true });
    const on = await run({ cache: true, shuffle: true });
    expect(off.model.featureCacheInfo!.used).toBe(false);
    const info = on.model.featureCacheInfo!;
    expect(info.used).toBe(true);
    expect(info.reason).toBe('feature cache: layers conv1_1..pool5 frozen, caching 32 floats per image in memory');
    expect(on.model.layers[info.cut!]!.name).toBe('fc6_new');
    expect(info.storage).toBe('memory');
    // 5 batches per epoch; the first epoch fills the cache (its wrapped batch holds examples
    // not yet seen), later epochs run the head only.
    expect(info.computedBatches).toBe(5);
    expect(info.cachedBatches).toBe(8);
    expectSameBits(off.trace, on.trace);
  });

  it('with the experiment runner: per-epoch test loss and accuracy, and the final test pass', async () => {
    const go = async (cache: boolean) => {
      const { train, test } = iterators({ shuffle: true });
      const model = tinyModel();
      model.initialize(train.lshape);
      model.featureCache = { enabled: cache };
      const optimizer = extractOptimizer(model);
      manualSeed(99);
      const r = await runExperiment(
        { experiment: 'extract', model, trainSet: train, optimizer: { lr: 0.01, momentum: 0.9, wdecay: 0.0005 } },
        { imported: convNames(model), report: null, optimizer: optimizer as MultiOptimizer, trainableParams: 0, totalParams: 0 },
        { numEpochs: 4, testSet: test, evalFreq: 1, evalAtStart: true },
      );
      expect(model.featureCacheInfo!.used).toBe(cache);
      return { history: r.history.map(({ seconds: _s, evalSeconds: _e, ...rest }) => rest), initial: r.initialEval, outputs: bytes(r.test.outputs), acc: r.testAccuracy };
    };
    const off = await go(false);
    const on = await go(true);
    expect(on.initial).toEqual(off.initial);
    expect(on.initial!.epoch).toBe(0);
    expect(on.history).toEqual(off.history);
    expect(on.history.every((h) => h.evalLoss !== undefined && h.evalAccuracy !== undefined)).toBe(true);
    expect(Buffer.compare(Buffer.from(on.outputs), Buffer.from(off.outputs))).toBe(0);
    expect(on.acc).toBe(off.acc);
  });

  it('evaluate(frozenBelow): the frozen layers run once per test example while their weights stay; same bits as without', () => {
    const { test } = iterators();
    const model = tinyModel();
    model.initialize(test.lshape);
    const cut = model.frozenPrefix(extractOptimizer(model), 0, 3);
    expect(model.layers[cut]!.name).toBe('fc6_new');
    let firstLayerRows = 0;
    const conv = model.layers[0]!, fprop = conv.fprop.bind(conv);
    conv.fprop = (x, inference) => { firstLayerRows += x.shape[0]!; return fprop(x, inference); };
    const plain = model.evaluate(test, new Accuracy());
    const rowsPlain = firstLayerRows;
    expect(rowsPlain).toBeGreaterThanOrEqual(test.ndata);
    firstLayerRows = 0;
    const first = model.evaluate(test, new Accuracy(), { frozenBelow: cut });
    const second = model.evaluate(test, new Accuracy(), { frozenBelow: cut });
    expect(firstLayerRows).toBe(rowsPlain); // the second pass ran the head alone
    for (const r of [first, second]) {
      expect(Buffer.compare(Buffer.from(bytes(r.outputs)), Buffer.from(bytes(plain.outputs)))).toBe(0);
      expect(r.metrics).toEqual(plain.metrics);
    }
    // A frozen weight changes: the features are computed again, and follow the new weights.
    const w = model.layers[0]!.params()[0]!.value;
    w.setValues(Float32Array.from(w.toHost(), (v) => v * 1.5));
    firstLayerRows = 0;
    const moved = model.evaluate(test, new Accuracy(), { frozenBelow: cut });
    expect(firstLayerRows).toBe(rowsPlain);
    model.featureCache = { enabled: false };
    const movedPlain = model.evaluate(test, new Accuracy());
    expect(Buffer.compare(Buffer.from(bytes(moved.outputs)), Buffer.from(bytes(movedPlain.outputs)))).toBe(0);
    expect(Buffer.compare(Buffer.from(bytes(moved.outputs)), Buffer.from(bytes(plain.outputs)))).not.toBe(0);
  });

  it('a Ctrl-C in epoch 2, a checkpoint and a resume (skipEpochs) give the bits of the uncached resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fcache-resume-'));
    try {
      const go = async (cache: boolean) => {
        const path = join(dir, `ckpt-${cache}.h5`);
        // Run 1: interrupted after the 3rd minibatch of epoch 2; the interrupted epoch does not count.
        const first = await run({
          cache, epochs: 4,
          callbacks: () => [{ onMinibatchEnd: (m, e, mb) => { if (e === 1 && mb === 2) m.stopRequested = true; } }],
        });
        expect(first.model.epochIndex).toBe(1);
        await first.model.save(path);
        // Run 2: a fresh model resumes from the checkpoint, its iterator skipped to epoch 2.
        const { train } = iterators();
        const model = tinyModel(12);
        model.initialize(train.lshape);
        await model.loadParams(path);
        expect(model.epochIndex).toBe(1);
        train.skipEpochs(model.epochIndex);
        expect(train.start).toBeGreaterThan(0); // the resumed epoch skips the first examples: the cache fills over two epochs
        const trace = newTrace();
        manualSeed(7);
        await model.fit(train, { optimizer: extractOptimizer(model), numEpochs: 4, cost: model.cost!, callbacks: [recorder(trace)], featureCache: cache });
        return { first: first.trace, model, trace: snapshot(model, trace) };
      };
      const off = await go(false);
      const on = await go(true);
      expectSameBits(off.first, on.first);
      expectSameBits(off.trace, on.trace);
      const info = on.model.featureCacheInfo!;
      expect(info.used).toBe(true);
      // Epoch 2 starts at example 5: 4 batches, all computed (the wrapped one stores 0..2);
      // epoch 3 starts at 3: its first batch holds 3 and 4, not seen yet (computed), then 3
      // cached batches; epoch 4 (from 1): 5 cached batches.
      expect(info.computedBatches).toBe(5);
      expect(info.cachedBatches).toBe(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an evaluation callback on the training set itself (reset between epochs) changes nothing', async () => {
    const evalEachEpoch = (accs: number[]) => (): Callback[] => [{ onEpochEnd: (m) => { accs.push(m.eval(iteratorsShared.train, new Accuracy())[0]!); } }];
    const iteratorsShared = iterators();
    const a: number[] = [], b: number[] = [];
    const off = await run({ cache: false, callbacks: evalEachEpoch(a) });
    const on = await run({ cache: true, callbacks: evalEachEpoch(b) });
    expect(on.model.featureCacheInfo!.used).toBe(true);
    expect(b).toEqual(a);
    expectSameBits(off.trace, on.trace);
  });

  it('the file-backed cache (a tiny memory budget) gives the same bits and leaves no file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fcache-file-'));
    try {
      const seen: string[][] = [];
      const off = await run({ cache: false, shuffle: true });
      const onFile = await run({
        cache: { memoryBudget: 0, tmpDir: dir }, shuffle: true,
        callbacks: () => [{ onEpochEnd: () => { seen.push(readdirSync(dir)); } }],
      });
      const info = onFile.model.featureCacheInfo!;
      expect(info.used).toBe(true);
      expect(info.storage).toBe('file');
      expect(info.reason).toMatch(/caching 32 floats per image in a temporary file \(0\.0 MiB, above the 0 MiB memory budget\)$/);
      expect(seen.every((s) => s.length === 1 && s[0]!.startsWith('tl-feature-cache-'))).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
      expectSameBits(off.trace, onFile.trace);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the file is also removed when fit throws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fcache-throw-'));
    try {
      await expect(run({
        cache: { memoryBudget: 0, tmpDir: dir },
        callbacks: () => [{ onEpochEnd: (_m, e) => { if (e === 1) throw new Error('boom'); } }],
      })).rejects.toThrow('boom');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the temporary file is removed when the process exits without closing the cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-fcache-exit-'));
    try {
      const mod = resolve(__dirname, '../../dist/src/models/feature-cache.js');
      const script = `
        import { FeatureCache } from ${JSON.stringify(mod)};
        import { readdirSync } from 'node:fs';
        const c = new FeatureCache(4, [2], false, { memoryBudget: 0, tmpDir: ${JSON.stringify(dir)} });
        c.put(Int32Array.from([0, 1]), Float32Array.from([1, 2, 3, 4]));
        if (Array.from(c.gather(Int32Array.from([1]))).join() !== '3,4') process.exit(3);
        console.log(readdirSync(${JSON.stringify(dir)}).length);
        process.exit(0);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe('1');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cached frozen features: not used where they could differ', () => {
  it('a Dropout below every frozen layer: not used; one after pool1: only conv1_1..pool1 are cached; same bits', async () => {
    const inputDropout = () => tinyModel(11, (ls) => [new Dropout({ keep: 0.8, name: 'input_dropout' }), ...ls]);
    const off = await run({ cache: false, model: inputDropout });
    const on = await run({ cache: true, model: inputDropout });
    expect(on.model.featureCacheInfo!.used).toBe(false);
    expect(on.model.featureCacheInfo!.reason).toMatch(/'input_dropout' \(Dropout\) draws random numbers in training/);
    expectSameBits(off.trace, on.trace);

    const afterPool1 = () => tinyModel(11, (ls) => {
      const i = ls.findIndex((l) => l.name === 'pool1') + 1;
      return [...ls.slice(0, i), new Dropout({ keep: 0.8, name: 'pool1_dropout' }), ...ls.slice(i)];
    });
    const off2 = await run({ cache: false, model: afterPool1 });
    const on2 = await run({ cache: true, model: afterPool1 });
    const info = on2.model.featureCacheInfo!;
    expect(info.used).toBe(true);
    expect(info.reason).toBe('feature cache: layers conv1_1..pool1 frozen, caching 1024 floats per image in memory');
    expectSameBits(off2.trace, on2.trace);
  });

  it('a frozen layer whose rate becomes non-zero at a later epoch of the run: not used; same bits', async () => {
    // The imported layers' optimizer: lr 0, then 0.001 from epoch 3 (0-based 2) by a step schedule.
    const later = (m: Model): Optimizer => {
      const base = new GradientDescentMomentum(0.01, { momentumCoef: 0.9, name: 'default' });
      const imported = new GradientDescentMomentum(0, { momentumCoef: 0.9, name: 'imported', schedule: new StepSchedule([2], [0.001]) });
      return new MultiOptimizer({ default: base, ...Object.fromEntries(convNames(m).map((n) => [n, imported])) });
    };
    const off = await run({ cache: false, optimizer: later });
    const on = await run({ cache: true, optimizer: later });
    expect(on.model.featureCacheInfo!.used).toBe(false);
    expect(on.model.featureCacheInfo!.reason).toMatch(/'conv1_1' trains \(learning rate 0\.001 at epoch 3\)/);
    expectSameBits(off.trace, on.trace);
    // The same schedule over two epochs never unfreezes them: cached.
    const short = await run({ cache: true, optimizer: later, epochs: 2 });
    expect(short.model.featureCacheInfo!.used).toBe(true);
    // Fine-tuning (imported layers at 0.001 × lr): nothing frozen.
    const ft = await run({ cache: true, optimizer: (m) => extractOptimizer(m, 0.001), epochs: 2 });
    expect(ft.model.featureCacheInfo!.used).toBe(false);
    expect(ft.model.featureCacheInfo!.reason).toMatch(/no frozen layer at the bottom of the model: 'conv1_1' trains/);
  });

  it('non-zero momentum velocities on frozen layers (they still move at lr 0): not used; same bits', async () => {
    const withVelocity = (m: Model) => {
      const p = m.layer('conv3_1')!.params()[0]!;
      const v = new Float32Array(p.value.size).fill(0);
      v[5] = 1e-3;
      p.states = [tensor(v, [...p.value.shape])];
    };
    const off = await run({ cache: false, before: withVelocity });
    const on = await run({ cache: true, before: withVelocity });
    expect(on.model.featureCacheInfo!.used).toBe(false);
    expect(on.model.featureCacheInfo!.reason).toMatch(/'conv3_1' has a non-zero optimizer state/);
    expectSameBits(off.trace, on.trace);
    // the weights did move: conv3_1's differ from an untouched model's
    const still = await run({ cache: true });
    expect(Buffer.compare(Buffer.from(still.trace.params.get('conv3_1.W')!), Buffer.from(on.trace.params.get('conv3_1.W')!))).not.toBe(0);
  });

  it('frozen weights changed during the run (by a callback): caching stops at the next epoch; same bits', async () => {
    const poke = (m: Model): Callback[] => [{
      onEpochEnd: (_m, e) => {
        if (e !== 0) return;
        const p = m.layer('conv5_3_bias')!.params()[0]!;
        const v = Float32Array.from(p.value.toHost());
        v[0] = v[0]! + 0.25;
        p.value.setValues(v);
      },
    }];
    const off = await run({ cache: false, callbacks: poke });
    const on = await run({ cache: true, callbacks: poke });
    const info = on.model.featureCacheInfo!;
    expect(info.used).toBe(true);
    expect(info.stopped).toBe('the weights of the frozen layers changed');
    expect(info.cachedBatches).toBe(0);
    expectSameBits(off.trace, on.trace);
  });

  it('turned off by the model option; one epoch: nothing to reuse', async () => {
    const off = await run({ model: () => Object.assign(tinyModel(), { featureCache: { enabled: false } }) });
    expect(off.model.featureCacheInfo!.used).toBe(false);
    expect(off.model.featureCacheInfo!.reason).toBe('turned off');
    const forced = await run({ cache: true, model: () => Object.assign(tinyModel(), { featureCache: { enabled: false } }) });
    expect(forced.model.featureCacheInfo!.used).toBe(true);
    const one = await run({ cache: true, epochs: 1 });
    expect(one.model.featureCacheInfo!.used).toBe(false);
  });
});

describe('what the cache relies on: a layer\'s output for an example does not depend on the rest of its batch', () => {
  for (const be of allBackends()) {
    it(`on ${be.name}: the frozen VGG-16 features of each example are the same bits in any batch, at any row`, () => {
      withBackend(be.name, () => {
        const m = tinyModel();
        m.initialize(LSHAPE);
        const cut = m.layers.findIndex((l) => l.name === 'fc6_new');
        const n = 7;
        const x = TRAIN.x.subarray(0, n * F);
        const perm = [3, 6, 0, 5, 1, 4, 2];
        const xp = new Float32Array(n * F);
        perm.forEach((src, k) => xp.set(x.subarray(src * F, (src + 1) * F), k * F));
        const a = m.fpropLayers(tensor(Float32Array.from(x), [n, ...LSHAPE]), 0, cut).toHost();
        const b = m.fpropLayers(tensor(xp, [n, ...LSHAPE]), 0, cut).toHost();
        const single = m.fpropLayers(tensor(Float32Array.from(x.subarray(3 * F, 4 * F)), [1, ...LSHAPE]), 0, cut).toHost();
        const Fh = a.length / n;
        perm.forEach((src, k) => expect(Buffer.compare(Buffer.from(bytes(a.subarray(src * Fh, (src + 1) * Fh) as Float32Array)), Buffer.from(bytes(b.subarray(k * Fh, (k + 1) * Fh) as Float32Array))), `example ${src} at row ${k}`).toBe(0));
        expect(Buffer.compare(Buffer.from(bytes(single as Float32Array)), Buffer.from(bytes(a.subarray(3 * Fh, 4 * Fh) as Float32Array)))).toBe(0);
      });
    });
  }
});
