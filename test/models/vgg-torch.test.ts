// Differential test of the whole training step against PyTorch 1.13: the reduced VGG-16
// transfer model (widthMult 1/16, fcSize 16, dropout keep 1 = off, 3×32×32 inputs, batch
// 4). test/fixtures/vgg/ is written by scripts/fixtures/make_vgg_reference.py (CI does not
// run it): initial weights, two batches with one-hot targets, and, computed by torch in
// float64 with neon's definitions (docs/neon-notes.md: optimizers; costs),
//   - the softmax outputs and the CrossEntropyBinary loss (mean over the batch of Σ_k) at
//     the initial weights on batch A,
//   - every parameter gradient, summed over the batch (delta y − t into the softmax input),
//   - the outputs on batch B after one GradientDescentMomentum step, and the change of every
//     parameter after two steps (batch A, then batch B; lr 0.01, μ 0.9, wdecay 0.0005).
// Every array is compared with the norm-wise relative error ‖ours − torch‖₂ / ‖torch‖₂ ≤
// 1e-4 (the loss, a scalar: |ours − torch| / |torch| ≤ 1e-4). The weights after two
// steps are compared both as W2 and as the update W2 − W0: the update is only ~1e-3 of W,
// so W2 at 1e-4 alone would miss, e.g., a missing weight decay (shown below).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import type { Model } from '../../src/models/model.js';
import { CrossEntropyBinary, GeneralizedCost } from '../../src/models/cost.js';
import { GradientDescentMomentum, type GradientDescentMomentumOptions } from '../../src/optim/gdm.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { tensor } from '../../src/autograd/ops/create.js';
import { expectRelNorm, relNormError } from '../helpers/check.js';

const TOL = 1e-4;

interface ArrayEntry { dtype: 'int8' | 'float32'; shape: number[]; offset: number; scale?: number }
interface Fixture {
  seed: number;
  bsz: number;
  params: string[];
  loss_a: number;
  loss_b: number;
  model: { widthMult: number; fcSize: number; nclass: number; dropoutKeep: number; inShape: number[] };
  optimizer: { learningRate: number; momentumCoef: number; wdecay: number };
  arrays: Record<string, ArrayEntry>;
}

const dir = new URL('../fixtures/vgg/', import.meta.url);
const fx = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8')) as Fixture;
const blob = gunzipSync(readFileSync(new URL('reference.bin.gz', dir)));

function get(name: string): { data: Float32Array; shape: number[] } {
  const e = fx.arrays[name];
  if (!e) throw new Error(`vgg fixture has no array '${name}'`);
  const n = e.shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  if (e.dtype === 'int8') for (let i = 0; i < n; i++) data[i] = blob.readInt8(e.offset + i) * e.scale!;
  else for (let i = 0; i < n; i++) data[i] = blob.readFloatLE(e.offset + 4 * i);
  return { data, shape: e.shape };
}

const tensorOf = (name: string) => {
  const a = get(name);
  return tensor(a.data, a.shape);
};

/** The model of the fixture with every parameter set from W0 (checks the fixture covers each one). */
function build(): Model {
  const m = generateVgg16TransferModel({ widthMult: fx.model.widthMult, fcSize: fx.model.fcSize, nclass: fx.model.nclass, dropoutKeep: fx.model.dropoutKeep });
  m.initialize(fx.model.inShape);
  const layers = m.layersToOptimize;
  expect(layers.map((l) => l.name)).toEqual(fx.params);
  for (const l of layers) {
    const ps = l.params();
    expect(ps.length, `${l.name} has one parameter`).toBe(1);
    const w = get(`W0/${l.name}`);
    expect(ps[0]!.value.shape, `shape of ${l.name}`).toEqual(w.shape);
    ps[0]!.value.data.set(w.data);
  }
  return m;
}

const paramOf = (m: Model, name: string) => m.layer(name)!.params()[0]!;
const cost = () => new GeneralizedCost(CrossEntropyBinary());
const worst = (errs: number[]) => Math.max(...errs);

/** One training step on (x, t) exactly as Model.fit does it; returns the outputs and the cost. */
function step(m: Model, opt: GradientDescentMomentum, x: Tensor, t: Tensor): { y: Tensor; c: number } {
  const cf = cost();
  const y = m.fprop(x, false);
  const c = cf.getCost(y, t);
  m.bprop(cf.getErrors(y, t));
  opt.optimize(m.layersToOptimize, 0, x.shape[0]!);
  return { y, c };
}

/** Two steps (batch A, then B); returns the outputs on B and the per-parameter updates W2 − W0. */
function trainTwoSteps(m: Model, opts: GradientDescentMomentumOptions = {}) {
  const o = fx.optimizer;
  const opt = new GradientDescentMomentum(o.learningRate, { momentumCoef: o.momentumCoef, wdecay: o.wdecay, ...opts });
  const w0 = new Map(fx.params.map((n) => [n, Float64Array.from(paramOf(m, n).value.data)]));
  step(m, opt, tensorOf('x_a'), tensorOf('t_a'));
  const b = step(m, opt, tensorOf('x_b'), tensorOf('t_b'));
  const w2 = new Map(fx.params.map((n) => [n, Float64Array.from(paramOf(m, n).value.data)]));
  const update = new Map(fx.params.map((n) => [n, w2.get(n)!.map((v, i) => v - w0.get(n)![i]!)]));
  return { yB: b.y, costB: b.c, w0, w2, update };
}

describe('reduced VGG-16 transfer model vs PyTorch (norm-wise relative error ≤ 1e-4 per array)', () => {
  it('the fixture is the model the test builds', () => {
    expect(fx.model).toEqual({ widthMult: 1 / 16, fcSize: 16, nclass: 2, dropoutKeep: 1, inShape: [3, 32, 32] });
    expect(fx.params.length).toBe(32);
    expect(fx.bsz).toBe(4);
  });

  it('outputs and loss at the initial weights', () => {
    const m = build();
    const y = m.fprop(tensorOf('x_a'), false);
    expect(y.shape).toEqual(get('y_a').shape);
    const eY = relNormError(y.data, get('y_a').data);
    expectRelNorm(y.data, get('y_a').data, 'softmax outputs', TOL);
    const c = cost().getCost(y, tensorOf('t_a'));
    const eC = Math.abs(c - fx.loss_a) / Math.abs(fx.loss_a);
    expect(eC, `loss ${c} vs torch ${fx.loss_a}`).toBeLessThanOrEqual(TOL);
    console.info(`vgg vs torch: outputs ${eY.toExponential(2)}, loss ${eC.toExponential(2)}`);
  });

  it('every parameter gradient (summed over the batch) at the initial weights', () => {
    const m = build();
    const cf = cost();
    const t = tensorOf('t_a');
    const y = m.fprop(tensorOf('x_a'), false);
    m.bprop(cf.getErrors(y, t));
    const errs = fx.params.map((n) => {
      const g = paramOf(m, n).grad;
      const ref = get(`grad/${n}`);
      expect(g.shape, `shape of grad ${n}`).toEqual(ref.shape);
      expectRelNorm(g.data, ref.data, `gradient of ${n}`, TOL);
      return relNormError(g.data, ref.data);
    });
    console.info(`vgg vs torch: gradients, worst of ${errs.length}: ${worst(errs).toExponential(2)} (${fx.params[errs.indexOf(worst(errs))]})`);
  });

  it('two GradientDescentMomentum steps: outputs after step 1, weights and updates after step 2', () => {
    const { yB, costB, w2, update, w0 } = trainTwoSteps(build());
    expectRelNorm(yB.data, get('y_b').data, 'outputs on batch B after one step', TOL);
    expect(Math.abs(costB - fx.loss_b) / fx.loss_b).toBeLessThanOrEqual(TOL);
    const eW: number[] = [], eU: number[] = [];
    for (const n of fx.params) {
      const du = get(`update/${n}`).data;
      const ref = w0.get(n)!.map((v, i) => v + du[i]!);
      expectRelNorm(w2.get(n)!, ref, `${n} after two steps`, TOL);
      expectRelNorm(update.get(n)!, du, `${n}: update W2 − W0 over two steps`, TOL);
      eW.push(relNormError(w2.get(n)!, ref));
      eU.push(relNormError(update.get(n)!, du));
    }
    console.info(`vgg vs torch: outputs after 1 step ${relNormError(yB.data, get('y_b').data).toExponential(2)}, ` +
      `weights after 2 steps worst ${worst(eW).toExponential(2)}, updates W2 − W0 worst ${worst(eU).toExponential(2)} (${fx.params[eU.indexOf(worst(eU))]})`);
  });

  it('negative controls: the checks catch small deliberate perturbations', () => {
    // 1. One weight of conv3_2 moved by 1% of that layer's largest weight: a gradient check fails.
    const m = build();
    const w = paramOf(m, 'conv3_2').value.data;
    w[100] = w[100]! + 0.01 * Math.max(...Array.from(w, Math.abs));
    const t = tensorOf('t_a');
    const y = m.fprop(tensorOf('x_a'), false);
    m.bprop(cost().getErrors(y, t));
    const gradErr = worst(fx.params.map((n) => relNormError(paramOf(m, n).grad.data, get(`grad/${n}`).data)));
    expect(gradErr).toBeGreaterThan(TOL);
    expect(() => expectRelNorm(paramOf(m, 'conv3_2').grad.data, get('grad/conv3_2').data, 'perturbed', TOL)).toThrow(/relative error/);

    // 2. Training without the weight decay (5e-4·W, ~1% of the update): the update check
    // fails, while W2 itself stays within 1e-4 (which is why the update is checked).
    const r = trainTwoSteps(build(), { wdecay: 0 });
    const updErr = worst(fx.params.map((n) => relNormError(r.update.get(n)!, get(`update/${n}`).data)));
    const wErr = worst(fx.params.map((n) => {
      const du = get(`update/${n}`).data;
      return relNormError(r.w2.get(n)!, r.w0.get(n)!.map((v, i) => v + du[i]!));
    }));
    expect(updErr).toBeGreaterThan(10 * TOL);
    expect(wErr).toBeLessThan(TOL);
    console.info(`vgg vs torch, negative controls: perturbed weight → gradient error ${gradErr.toExponential(2)}; ` +
      `no weight decay → update error ${updErr.toExponential(2)}, W2 error ${wErr.toExponential(2)}`);
  });
});
