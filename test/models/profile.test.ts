// The training-step profile (src/models/profile.ts): its rows account for the step's wall
// time, it changes no result, and detaching puts every method back.
import { describe, expect, it } from 'vitest';
import { ArrayIterator } from '../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../src/models/cost.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import { Generator, manualSeed } from '../../src/index.js';
import { tensor } from '../../src/autograd/ops/create.js';
import { backend } from '../../src/kernels/index.js';
import { Profile } from '../../src/models/profile.js';
import { getNumThreads, setNumThreads } from '../../src/kernels/index.js';

function data(n: number) {
  const g = new Generator(5);
  const F = 3 * 32 * 32;
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < F; j++) x[i * F + j] = g.uniform(-1, 1);
  }
  return new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 8 });
}

async function fitWeights(profile: Profile | null): Promise<Float32Array[]> {
  manualSeed(3);
  const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  await m.fit(data(16), {
    optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 0.0005 }),
    numEpochs: 2,
    cost: new GeneralizedCost(CrossEntropyBinary()),
    callbacks: profile ? [profile.callback()] : [],
  });
  return m.layersToOptimize.flatMap((l) => l.params().map((p) => Float32Array.from(p.value.data)));
}

describe('training-step profile', () => {
  it('changes no result of fit (bit for bit), counts its steps and puts every method back', async () => {
    const be = backend();
    const before = Object.keys(be).filter((k) => Object.prototype.hasOwnProperty.call(be, k)).map((k) => [k, (be as unknown as Record<string, unknown>)[k]]);
    const profile = new Profile();
    const a = await fitWeights(profile);
    const b = await fitWeights(null);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Buffer.from(a[i]!.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true);
    expect(profile.steps).toBe(4);
    for (const [k, v] of before) expect((be as unknown as Record<string, unknown>)[k as string]).toBe(v);
    const rows = profile.rows();
    const conv = rows.filter((r) => r.layer === 'conv1_1');
    expect(conv.map((r) => r.pass)).toEqual(['fprop', 'bprop data', 'bprop weights', 'update']);
    expect(conv[1]!.flops).toBe(0); // the lowest layer computes no input gradient: its bprop data row is the layer's own code
    expect(conv[0]!.flops).toBe(4 * 8 * 2 * 4 * 3 * 9 * 32 * 32);
    expect(rows.find((r) => r.layer === 'conv1_2' && r.pass === 'bprop data')?.algorithm).not.toBe('');
    expect(profile.format()).toMatch(/conv1_1 +fprop/);
  }, 120_000);

  it('the rows inside layers, optimizer and cost sum to the step\'s wall time measured around it within 5%', () => {
    manualSeed(1);
    const m = generateVgg16TransferModel({ widthMult: 1 / 8, fcSize: 64 });
    m.initialize([3, 32, 32]);
    const opt = new GradientDescentMomentum(0.01, { momentumCoef: 0.9 });
    const cost = m.cost!;
    const g = new Generator(2);
    const x = tensor(Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => g.uniform(-1, 1)), [8, 3, 32, 32]);
    const t = tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 2 === (i >> 1) % 2 ? 1 : 0)), [8, 2]);
    const step = () => {
      const y = m.fprop(x, false);
      cost.getCost(y, t);
      m.bprop(cost.getErrors(y, t));
      opt.optimize(m.layersToOptimize, 0, 8);
    };
    step();
    const profile = new Profile();
    profile.attach(m, opt, cost);
    let wall = 0;
    for (let i = 0; i < 3; i++) {
      profile.beginStep();
      const t0 = performance.now();
      step();
      wall += performance.now() - t0;
      profile.endStep();
    }
    profile.detach();
    const inside = profile.rows().filter((r) => !r.pass.startsWith('outside')).reduce((s, r) => s + r.ms, 0);
    expect(inside).toBeLessThanOrEqual(wall * 1.0001);
    expect(inside).toBeGreaterThanOrEqual(0.95 * wall);
  }, 60_000);

  it('on the fast backend with 2 threads: the share with both threads busy and the threads computing, per row and for the step, within their bounds; recording back off after detach', () => {
    const be = backend();
    expect(be.name).toBe('cpu');
    const act = be.threadActivity!;
    expect(act).toBeDefined();
    const prevThreads = getNumThreads();
    setNumThreads(2);
    try {
      manualSeed(1);
      const m = generateVgg16TransferModel({ widthMult: 1 / 4, fcSize: 64 });
      m.initialize([3, 32, 32]);
      const opt = new GradientDescentMomentum(0.01, { momentumCoef: 0.9 });
      const cost = m.cost!;
      const g = new Generator(2);
      const x = tensor(Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => g.uniform(-1, 1)), [8, 3, 32, 32]);
      const t = tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 2 === (i >> 1) % 2 ? 1 : 0)), [8, 2]);
      const step = () => {
        const y = m.fprop(x, false);
        cost.getCost(y, t);
        m.bprop(cost.getErrors(y, t));
        opt.optimize(m.layersToOptimize, 0, 8);
      };
      step();
      expect(act.recording).toBe(false);
      const profile = new Profile();
      profile.attach(m, opt, cost);
      const c0 = act.read();
      for (let i = 0; i < 2; i++) {
        profile.beginStep();
        step();
        profile.endStep();
      }
      expect(act.recording).toBe(true);
      profile.detach();
      expect(act.recording).toBe(false);
      expect(profile.threads).toBe(2);
      // the helper took part (image groups of conv1's 32² maps, split gemms); how much of the
      // step both threads computed at once depends on what else the machine runs, so only bounds
      const c = act.read();
      expect(c.helperBusyMs - c0.helperBusyMs).toBeGreaterThan(0);
      expect(profile.stepThreadMs - profile.stepMs).toBeCloseTo((c.helperBusyMs - c0.helperBusyMs) - (c.waitMs - c0.waitMs), 6);
      expect(profile.stepAllBusyMs).toBeGreaterThanOrEqual(0);
      expect(profile.stepAllBusyMs).toBeLessThanOrEqual(profile.stepMs);
      expect(profile.stepThreadMs).toBeLessThanOrEqual(2 * profile.stepMs * 1.0001);
      const rows = profile.rows();
      for (const r of rows) {
        expect(r.allBusyMs).toBeGreaterThanOrEqual(0);
        expect(r.allBusyMs).toBeLessThanOrEqual(r.ms * 1.0001 + 1e-6);
        expect(r.threadMs).toBeLessThanOrEqual(2 * r.ms * 1.0001 + 1e-6);
      }
      expect(rows.reduce((s, r) => s + r.allBusyMs, 0)).toBeLessThanOrEqual(profile.stepAllBusyMs * 1.0001 + 1e-6);
      expect(profile.format()).toMatch(/^all 2 threads busy: \d+\.\d% of the step; threads computing on average: [12]\.\d\d of 2$/m);
      expect(profile.format()).toMatch(/threads +all busy/);
    } finally {
      setNumThreads(prevThreads);
    }
  }, 120_000);
});
