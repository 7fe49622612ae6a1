import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrayIterator } from '../../src/data/iterator.js';
import { generateVgg16, generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { Model } from '../../src/models/model.js';
import { epilogueRunAt } from '../../src/models/epilogue-fusion.js';
import { Accuracy, Misclassification, LogLoss } from '../../src/models/metrics.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../src/models/cost.js';
import { GradientDescentMomentum, MultiOptimizer } from '../../src/optim/index.js';
import { Affine, Conv, Rectlin, Softmax, Constant, Pooling } from '../../src/layers/index.js';
import { Generator, manualSeed, tensor } from '../../src/index.js';
import { getBackend, withBackend } from '../../src/kernels/index.js';
import { expectSameValues } from '../helpers/same.js';

/** Two classes of 32×32 3-channel images: class 1 is brighter in the top half. */
function separable(n: number, seed: number) {
  const g = new Generator(seed);
  const F = 3 * 32 * 32;
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) {
      x[i * F + c * 1024 + h * 32 + w] = g.uniform(0, 0.5) + (y[i] === 1 && h < 16 ? 0.8 : 0);
    }
  }
  return { x, y };
}

const tiny = () => generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });

describe('VGG-16 models', () => {
  it('the 1000-class VGG-16 at 224×224 has 138,357,544 parameters', () => {
    const m = generateVgg16();
    m.initialize([3, 224, 224]);
    expect(m.layersToOptimize.reduce((s, l) => s + l.params().reduce((a, p) => a + p.value.size, 0), 0)).toBe(138357544);
  }, 60_000);
  it("the transfer model has the lab's layer names and a head that follows the image size", () => {
    const m = tiny();
    m.initialize([3, 32, 32]);
    const names = m.layersToOptimize.map((l) => l.name);
    expect(names.slice(0, 4)).toEqual(['conv1_1', 'conv1_1_bias', 'conv1_2', 'conv1_2_bias']);
    expect(names.slice(-6)).toEqual(['fc6_new', 'fc6_new_bias', 'fc7_new', 'fc7_new_bias', 'cls_imdb_wiki_face', 'cls_imdb_wiki_face_bias']);
    expect(names.length).toBe(32);
    expect(m.layer('fc6_new')!.params()[0]!.value.shape).toEqual([16, 32 * 1 * 1]);
    expect(m.layer('conv5_3')!.params()[0]!.value.shape).toEqual([32, 32, 3, 3]);
    const m64 = tiny();
    m64.initialize([3, 64, 64]);
    expect(m64.layer('fc6_new')!.params()[0]!.value.shape).toEqual([16, 32 * 2 * 2]);
  });
});

describe('training', () => {
  it('a reduced VGG-16 (width 1/16, 32×32) fits a small separable set to 100% training accuracy', async () => {
    manualSeed(3);
    const { x, y } = separable(32, 1);
    const train = new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 8 });
    const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 32, dropoutKeep: 1 });
    // Train until the training set is fitted (at most 40 epochs).
    const stopWhenFitted = { onEpochEnd: (model: Model) => { if (model.eval(train, new Accuracy())[0] === 1) model.stopRequested = true; } };
    await m.fit(train, { optimizer: new GradientDescentMomentum(0.03, { momentumCoef: 0.9 }), numEpochs: 40, cost: new GeneralizedCost(CrossEntropyBinary()), callbacks: [stopWhenFitted] });
    expect(m.eval(train, new Accuracy())[0]).toBe(1);
    expect(m.eval(train, new Misclassification())[0]).toBe(0);
    expect(m.eval(train, new LogLoss())[0]).toBeLessThan(Math.log(2));
  }, 120_000);

  it('a layer at learning rate 0 stays bit-identical, and no backward runs below the lowest trained layer', async () => {
    manualSeed(4);
    const { x, y } = separable(12, 2);
    const train = new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 5 });
    const m = tiny();
    m.initialize([3, 32, 32]);
    const convs = m.layersToOptimize.filter((l) => l.name.startsWith('conv'));
    const before = convs.map((l) => l.params().map((p) => Float32Array.from(p.value.data)));
    const frozen = new GradientDescentMomentum(0, { momentumCoef: 0.9, wdecay: 0.0005 });
    const mapping: Record<string, GradientDescentMomentum> = { default: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 0.0005 }) };
    for (const l of convs) mapping[l.name] = frozen;
    let bpropCalls = 0;
    const conv11 = m.layer('conv1_1')!;
    const orig = conv11.bprop.bind(conv11);
    conv11.bprop = (d, need) => { bpropCalls++; return orig(d, need); };
    const head = m.layer('fc6_new')!.params()[0]!;
    const headBefore = Float32Array.from(head.value.data);
    await m.fit(train, { optimizer: new MultiOptimizer(mapping), numEpochs: 2, cost: new GeneralizedCost(CrossEntropyBinary()) });
    convs.forEach((l, i) => l.params().forEach((p, j) => expect(Buffer.from(p.value.data.buffer).equals(Buffer.from(before[i]![j]!.buffer))).toBe(true)));
    expect(bpropCalls).toBe(0);
    expect(m.lowestTrainable()).toBe(m.layers.findIndex((l) => l.name === 'fc6_new'));
    expect(Array.from(head.value.data)).not.toEqual(Array.from(headBefore));
  });

  it('a NaN cost stops training with a message naming the epoch and minibatch', async () => {
    const { x, y } = separable(8, 3);
    x[5] = NaN;
    const train = new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 4 });
    const m = tiny();
    await expect(m.fit(train, { optimizer: new GradientDescentMomentum(0.01), numEpochs: 1, cost: new GeneralizedCost(CrossEntropyBinary()) }))
      .rejects.toThrow(/diverged: the cost is NaN at epoch 1, minibatch 1/);
  });
});

describe('eval and getOutputs', () => {
  it('are exact over ndata examples, wrapped duplicates excluded', () => {
    manualSeed(5);
    const { x, y } = separable(7, 4);
    const set = new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 3 });
    const m = tiny();
    m.initialize([3, 32, 32]);
    const out = m.getOutputs(set);
    expect(out.shape).toEqual([7, 2]);
    // Reference: one example at a time, no wrap at all.
    const one = new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 1 });
    const ref = m.getOutputs(one);
    // exact: the same values bit for bit, whatever the batch size and the wrapped rows
    expectSameValues(out.data, ref.data, 'outputs with batches of 3 vs one at a time');
    let correct = 0;
    for (let i = 0; i < 7; i++) if ((ref.data[2 * i + 1]! > ref.data[2 * i]! ? 1 : 0) === y[i]) correct++;
    expect(m.eval(set, new Accuracy())[0]).toBeCloseTo(correct / 7, 6);
  });
});

describe('checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-ckpt-'));
  const data = () => {
    const { x, y } = separable(10, 6);
    return new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 4 });
  };
  const optimizer = () => new MultiOptimizer({
    default: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 0.0005 }),
    conv1_1: new GradientDescentMomentum(0.001, { momentumCoef: 0.9 }),
  });
  const snapshot = (m: Model) => m.layersToOptimize.flatMap((l) => l.params().flatMap((p) => [Array.from(p.value.data), ...p.states.map((s) => Array.from(s.data))]));

  it('save → load gives identical outputs', async () => {
    manualSeed(7);
    const m = tiny();
    await m.fit(data(), { optimizer: optimizer(), numEpochs: 1, cost: new GeneralizedCost(CrossEntropyBinary()) });
    const p = join(dir, 'a.h5');
    await m.save(p);
    manualSeed(99);
    const m2 = tiny();
    await m2.loadParams(p);
    expect(Array.from(m2.getOutputs(data()).data)).toEqual(Array.from(m.getOutputs(data()).data));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('2 epochs + save + load + 2 epochs equals 4 epochs bit for bit (weights and velocities)', async () => {
    const cost = new GeneralizedCost(CrossEntropyBinary());
    manualSeed(11);
    const full = tiny();
    await full.fit(data(), { optimizer: optimizer(), numEpochs: 4, cost });

    manualSeed(11);
    const first = tiny();
    const d = data();
    await first.fit(d, { optimizer: optimizer(), numEpochs: 2, cost });
    const p = join(dir, 'b.h5');
    await first.save(p);
    manualSeed(12345); // a resumed process starts with another generator state
    const resumed = tiny();
    await resumed.loadParams(p);
    expect(resumed.epochIndex).toBe(2);
    // The data iterator continues with neon's wrap offset after two epochs: replay it.
    const d2 = data();
    for (let e = 0; e < 2; e++) for (const _ of d2.batches()) void _;
    await resumed.fit(d2, { optimizer: optimizer(), numEpochs: 4, cost });
    expect(snapshot(resumed)).toEqual(snapshot(full));
  }, 60_000);

  it('a crash while writing leaves the previous checkpoint intact; damaged files give one clear message', async () => {
    const m = tiny();
    m.initialize([3, 32, 32]);
    const p = join(dir, 'c.h5');
    await m.save(p);
    const good = readFileSync(p);
    const bad = tiny();
    bad.initialize([3, 32, 32]);
    (bad.layers[0] as unknown as { describe: () => never }).describe = () => { throw new Error('disk full'); };
    await expect(bad.save(p)).rejects.toThrow('disk full');
    expect(readFileSync(p).equals(good)).toBe(true);
    writeFileSync(join(dir, 'trunc.h5'), good.subarray(0, 2000));
    await expect(tiny().loadParams(join(dir, 'trunc.h5'))).rejects.toThrow(/trunc\.h5.*(truncated|damaged|HDF5)/);
    writeFileSync(join(dir, 'text.h5'), 'hello');
    await expect(tiny().loadParams(join(dir, 'text.h5'))).rejects.toThrow(/text\.h5: not an HDF5 file/);
  });

  it('loading into a model of another shape names the layer and both shapes, and changes nothing', async () => {
    const m = tiny();
    m.initialize([3, 32, 32]);
    const p = join(dir, 'd.h5');
    await m.save(p);
    const wider = generateVgg16TransferModel({ widthMult: 1 / 8, fcSize: 16 });
    wider.initialize([3, 32, 32]);
    const before = snapshot(wider);
    await expect(wider.loadParams(p)).rejects.toThrow(/layer 'conv1_1' W has shape \[4, 3, 3, 3\] in the file but \[8, 3, 3, 3\] in the model/);
    expect(snapshot(wider)).toEqual(before);
    const other = generateVgg16({ widthMult: 1 / 16, fcSize: 16 });
    other.initialize([3, 32, 32]);
    await expect(other.loadParams(p)).rejects.toThrow(/has no layer 'fc6'/);
  });
});

describe('Model basics', () => {
  it('rejects duplicate layer names and wrong input shapes', () => {
    expect(() => new Model([Conv([3, 3, 4], { name: 'a' }), Affine(2, { name: 'a' })])).toThrow(/two layers are named 'a'/);
    const m = new Model([Conv([3, 3, 4], { bias: new Constant(0), activation: Rectlin(), padding: 1 }), new Pooling(2), Affine(2, { bias: new Constant(0), activation: Softmax() })]);
    m.initialize([1, 8, 8]);
    expect(() => m.fprop(tensor(new Float32Array(2 * 9 * 9), [2, 1, 9, 9]))).toThrow(/input examples have shape \[1, 9, 9\], the model was built for \[1, 8, 8\]/);
  });
});

describe('inference hands intermediate buffers back to the backend', () => {
  it('layer outputs are released once read, never the input or the result: results held stay intact, outputs stay exact', () => {
    manualSeed(3);
    const m = tiny();
    m.initialize([3, 32, 32]);
    const { x: xs } = separable(4, 5);
    const x1 = tensor(xs.slice(0, 2 * 3 * 1024), [2, 3, 32, 32]), x2 = tensor(xs.slice(2 * 3 * 1024), [2, 3, 32, 32]);
    const be = x1.backend;
    const released: unknown[] = [];
    const release = be.release;
    be.release = (b) => {
      released.push(b);
      release(b);
    };
    let got1: number[] = [];
    try {
      const y1 = m.fprop(x1, true);
      got1 = Array.from(y1.toHost());
      // one output per kernel call: a layer alone, or a run fused with its Bias and Rectlin
      let calls = 0;
      for (let i = 0; i < m.layers.length; calls++) i += epilogueRunAt(m.layers, i, m.layers.length)?.length ?? 1;
      expect(released.length).toBeGreaterThan(calls / 2);
      const y2 = m.fprop(x2, true);
      const got2 = Array.from(y2.toHost());
      const again1 = Array.from(m.fprop(x1, true).toHost());
      // reused buffers came back zeroed and fully rewritten: the same input gives the same output
      expect(again1).toEqual(got1);
      expect(got2).not.toEqual(got1);
      // what the caller holds was never handed out again: its input and both results are as they were
      expect(released).not.toContain(x1.storage);
      expect(Array.from(x1.toHost())).toEqual(Array.from(xs.slice(0, 2 * 3 * 1024)));
      expect(Array.from(y1.toHost())).toEqual(got1);
      expect(Array.from(y2.toHost())).toEqual(got2);
    } finally {
      be.release = release;
    }
    // and equal to the reference backend's, which releases nothing
    const ref = getBackend('ref');
    const yRef = withBackend(ref, () => {
      manualSeed(3);
      const r = tiny();
      r.initialize([3, 32, 32]);
      return Array.from(r.fprop(tensor(xs.slice(0, 2 * 3 * 1024), [2, 3, 32, 32]), true).toHost());
    });
    for (let i = 0; i < yRef.length; i++) expect(got1[i]!).toBeCloseTo(yRef[i]!, 5);
  });

  it('bprop after an inference fprop says the backward pass needs a training fprop', () => {
    const m = new Model([Conv([3, 3, 4], { name: 'c1', bias: new Constant(0), activation: Rectlin(), padding: 1 }), Affine(2, { name: 'fc' })]);
    m.initialize([1, 8, 8]);
    m.fprop(tensor(new Float32Array(2 * 64).fill(1), [2, 1, 8, 8]), true);
    expect(() => m.bprop(tensor(new Float32Array(4).fill(1), [2, 2]))).toThrow(/layer 'fc': bprop needs a training fprop first/);
  });
});
