// Fused epilogues in the model (src/models/epilogue-fusion.ts): a Convolution with its Bias
// and Rectlin runs as one conv2dForward(..., relu = true) call, a Linear with them as one
// linearForward(..., relu = true), and training with them gives the same bits as running
// the three layers one by one, on every backend; the fused layers' gradients pass the
// float64 finite-difference check.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Backend } from '../../src/kernels/backend.js';
import { backend, setBackend } from '../../src/kernels/index.js';
import { Activation, Affine, Bias, Conv, Convolution, Gaussian, Linear, Logistic, Pooling, Rectlin, Uniform, type Layer } from '../../src/layers/index.js';
import { Model } from '../../src/models/model.js';
import { epilogueRunAt } from '../../src/models/epilogue-fusion.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../src/models/cost.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import { ArrayIterator } from '../../src/data/iterator.js';
import { Generator, manualSeed, rng, tensor } from '../../src/index.js';
import { allBackends } from '../helpers/backends.js';

/** Conv+Bias+Rectlin, Conv+Rectlin (no bias), Conv+Bias (no activation), then a dense Linear+Bias+Rectlin and a head (Linear+Bias, Logistic). */
function makeModel(fuse: boolean): Model {
  const m = new Model([
    Conv([3, 3, 4], { padding: 1, init: new Gaussian(0, 0.3), bias: new Uniform(-0.2, 0.2), activation: Rectlin(), name: 'c1' }),
    Conv([1, 1, 3], { init: new Gaussian(0, 0.5), activation: Rectlin(), name: 'c2' }),
    Conv([3, 3, 3], { padding: 1, init: new Gaussian(0, 0.3), bias: new Uniform(-0.2, 0.2), name: 'c3' }),
    new Pooling(2, { strides: 2 }),
    Affine(5, { init: new Gaussian(0, 0.4), bias: new Uniform(-0.2, 0.2), activation: Rectlin(), name: 'fc1' }),
    Affine(2, { init: new Gaussian(0, 0.3), bias: new Uniform(-0.1, 0.1), activation: Logistic({ shortcut: true }), name: 'fc' }),
  ]);
  m.fuseEpilogues = fuse;
  return m;
}

async function train(be: Backend, fuse: boolean): Promise<{ weights: Float32Array[]; reluCalls: number; linearReluCalls: number }> {
  const g = new Generator(5);
  const x = Float32Array.from({ length: 6 * 2 * 6 * 6 }, () => g.uniform(-1, 1));
  const y = Int32Array.from({ length: 6 }, (_, i) => i % 2);
  const prev = backend().name;
  setBackend(be.name);
  const conv = be.conv2dForward;
  const linear = be.linearForward;
  let reluCalls = 0, linearReluCalls = 0;
  be.conv2dForward = (...a) => {
    if (a[7]) reluCalls++;
    return conv.apply(be, a);
  };
  be.linearForward = (...a) => {
    if (a[7]) linearReluCalls++;
    return linear.apply(be, a);
  };
  try {
    manualSeed(3);
    const m = makeModel(fuse);
    const data = new ArrayIterator({ x, y, nclass: 2, lshape: [2, 6, 6], bsz: 3 });
    await m.fit(data, { optimizer: new GradientDescentMomentum(0.1, { momentumCoef: 0.9 }), numEpochs: 2, cost: new GeneralizedCost(CrossEntropyBinary()) });
    return { weights: m.layersToOptimize.flatMap((l) => l.params().map((p) => Float32Array.from(p.value.toHost()))), reluCalls, linearReluCalls };
  } finally {
    be.conv2dForward = conv;
    be.linearForward = linear;
    setBackend(prev);
  }
}

describe('fused convolution epilogues in the model', () => {
  it('finds Conv+Bias+Rectlin, Conv+Rectlin, Conv+Bias, Linear+Bias+Rectlin and Linear+Bias runs, and none across the end of a range', () => {
    const layers = makeModel(true).layers;
    const runs: [number, number][] = [];
    for (let i = 0; i < layers.length; i++) {
      const r = epilogueRunAt(layers, i, layers.length);
      if (r) runs.push([i, r.length]);
    }
    expect(runs).toEqual([[0, 3], [3, 2], [5, 2], [8, 3], [11, 2]]);
    expect(runs.map(([i]) => epilogueRunAt(layers, i, layers.length)!.layer.className)).toEqual(['Convolution', 'Convolution', 'Convolution', 'Linear', 'Linear']);
    // a range that ends between the convolution and its bias leaves the convolution alone
    expect(epilogueRunAt(layers, 0, 1)).toBeNull();
    expect(epilogueRunAt(layers, 0, 2)?.length).toBe(2);
  });

  it.each(allBackends().map((b) => [b.name, b] as const))('training with fused epilogues gives the same bits as the layers one by one: %s', async (_name, be) => {
    const fused = await train(be, true);
    const alone = await train(be, false);
    expect(fused.reluCalls).toBeGreaterThan(0);
    expect(alone.reluCalls).toBe(0);
    expect(fused.linearReluCalls).toBeGreaterThan(0);
    expect(alone.linearReluCalls).toBe(0);
    expect(fused.weights.length).toBe(alone.weights.length);
    fused.weights.forEach((w, i) => expect(Array.from(w), `parameter ${i}`).toEqual(Array.from(alone.weights[i]!)));
  }, 120_000);

  it('the fused Conv+Bias+Rectlin gradients equal float64 central differences (reference backend, random shapes)', () => {
    const prev = backend().name;
    setBackend('ref');
    try {
      fc.assert(fc.property(
        fc.record({ N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }), K: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 3, max: 6 }), W: fc.integer({ min: 3, max: 6 }), seed: fc.nat(1000) }),
        ({ N, C, K, H, W, seed }) => {
          rng.seed(seed);
          const layers: Layer[] = [new Convolution([3, 3, K], { padding: 1, name: 'c' }), new Bias({ name: 'c_bias' }), new Activation(Rectlin(), { name: 'c_relu' })];
          for (const l of layers) (l as unknown as { dtype: string }).dtype = 'float64';
          const m = new Model(layers);
          m.initialize([C, H, W]);
          const g = new Generator(seed + 1);
          const x = new Float64Array(N * C * H * W).map(() => g.uniform(-1, 1));
          const params = m.layersToOptimize.flatMap((l) => l.params());
          const host = params.map((p) => new Float64Array(p.value.size).map(() => g.uniform(-1, 1)));
          const wOut = new Float64Array(N * K * H * W).map(() => g.uniform(-1, 1));
          const f = (): number => {
            params.forEach((p, j) => p.value.setValues(host[j]!));
            const y = m.fprop(tensor(x, [N, C, H, W])).data;
            let s = 0;
            for (let i = 0; i < y.length; i++) s += wOut[i]! * y[i]!;
            return s;
          };
          f();
          m.bprop(tensor(wOut, [N, K, H, W]));
          const analytic = params.map((p) => Float64Array.from(p.grad.data));
          const eps = 1e-6;
          host.forEach((arr, j) => {
            for (let i = 0; i < arr.length; i++) {
              const orig = arr[i]!;
              arr[i] = orig + eps;
              const fp = f();
              arr[i] = orig - eps;
              const fm = f();
              arr[i] = orig;
              const numeric = (fp - fm) / (2 * eps);
              expect(Math.abs(numeric - analytic[j]![i]!), `${params[j]!.name}[${i}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(numeric));
            }
          });
        }), { numRuns: 15 });
    } finally {
      setBackend(prev);
    }
  });

  it('the fused Linear+Bias+Rectlin gradients (weights, bias, input) equal float64 central differences, and the model runs it as one linearForward (reference backend, random shapes)', () => {
    const prev = backend().name;
    setBackend('ref');
    const be = backend();
    const linear = be.linearForward;
    let fusedCalls = 0;
    be.linearForward = (...a) => {
      if (a[5] && a[7]) fusedCalls++;
      return linear.apply(be, a);
    };
    try {
      fc.assert(fc.property(
        fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 3 }), nout: fc.integer({ min: 1, max: 5 }), seed: fc.nat(1000) }),
        ({ N, C, H, nout, seed }) => {
          rng.seed(seed);
          // a Linear after an image input [C, H, H] flattens it: dx goes back in that shape
          const layers: Layer[] = [new Linear(nout, { name: 'fc' }), new Bias({ name: 'fc_bias' }), new Activation(Rectlin(), { name: 'fc_relu' })];
          for (const l of layers) (l as unknown as { dtype: string }).dtype = 'float64';
          const m = new Model(layers);
          m.initialize([C, H, H]);
          const g = new Generator(seed + 1);
          const x = new Float64Array(N * C * H * H).map(() => g.uniform(-1, 1));
          const params = m.layersToOptimize.flatMap((l) => l.params());
          const host = params.map((p) => new Float64Array(p.value.size).map(() => g.uniform(-1, 1)));
          const wOut = new Float64Array(N * nout).map(() => g.uniform(-1, 1));
          const f = (): number => {
            params.forEach((p, j) => p.value.setValues(host[j]!));
            const y = m.fprop(tensor(x, [N, C, H, H])).data;
            let s = 0;
            for (let i = 0; i < y.length; i++) s += wOut[i]! * y[i]!;
            return s;
          };
          const before = fusedCalls;
          f();
          expect(fusedCalls).toBe(before + 1);
          // the gradient of the input too: the Linear's bprop when a layer below needs it
          const dx = layers[0]!.bprop(layers[1]!.bprop(layers[2]!.bprop(tensor(wOut, [N, nout]), true)!, true)!, true)!.data;
          const analytic = params.map((p) => Float64Array.from(p.grad.data));
          const eps = 1e-6;
          const check = (arr: Float64Array, grad: ArrayLike<number>, name: string): void => {
            for (let i = 0; i < arr.length; i++) {
              const orig = arr[i]!;
              arr[i] = orig + eps;
              const fp = f();
              arr[i] = orig - eps;
              const fm = f();
              arr[i] = orig;
              const numeric = (fp - fm) / (2 * eps);
              expect(Math.abs(numeric - grad[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(numeric));
            }
          };
          host.forEach((arr, j) => check(arr, analytic[j]!, params[j]!.name));
          check(x, dx, 'x');
        }), { numRuns: 15 });
    } finally {
      be.linearForward = linear;
      setBackend(prev);
    }
  });
});
