// Every layer's bprop (input gradient and parameter gradients) against central differences
// in float64, over random shapes with fast-check. The loss is Σ w·fprop(x) for fixed random w,
// so bprop(w) must equal its gradient.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Activation, Bias, Convolution, Dropout, Gaussian, Linear, Logistic, Pooling, Rectlin, Softmax, Tanh, Identity, type Layer } from '../../src/layers/index.js';
import { Generator, rng, tensor } from '../../src/index.js';
import { GeneralizedCost, CrossEntropyBinary, CrossEntropyMulti } from '../../src/models/cost.js';

function layerGradcheck(layer: Layer, inShape: number[], N: number, seed: number, opts: { avoidZero?: boolean } = {}): void {
  (layer as unknown as { dtype: string }).dtype = 'float64';
  rng.seed(seed);
  const outShape = layer.configure(inShape);
  const g = new Generator(seed + 1);
  const n = N * inShape.reduce((a, b) => a * b, 1);
  const x = new Float64Array(n).map(() => {
    const v = g.uniform(-1, 1);
    return opts.avoidZero ? v + Math.sign(v) * 0.1 : v;
  });
  // Parameter values live on the host here and are uploaded before every forward pass, so that
  // the finite differences can perturb them one element at a time.
  const hostParams = layer.params().map((p) => new Float64Array(p.value.size).map(() => g.uniform(-1, 1)));
  const w = new Float64Array(N * outShape.reduce((a, b) => a * b, 1)).map(() => g.uniform(-1, 1));
  const state = rng.getState();
  const f = (): number => {
    rng.setState(state);
    layer.params().forEach((p, j) => p.value.setValues(hostParams[j]!));
    const y = layer.fprop(tensor(x, [N, ...inShape]), false).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += w[i]! * y[i]!;
    return s;
  };
  f();
  const dx = layer.bprop(tensor(w, [N, ...outShape]), true)!.data;
  const grads = layer.params().map((p) => Float64Array.from(p.grad.data));
  const eps = 1e-6;
  const check = (arr: Float64Array, analytic: ArrayLike<number>, what: string) => {
    for (let i = 0; i < arr.length; i++) {
      const orig = arr[i]!;
      arr[i] = orig + eps;
      const fp = f();
      arr[i] = orig - eps;
      const fm = f();
      arr[i] = orig;
      const numeric = (fp - fm) / (2 * eps);
      if (Math.abs(numeric - analytic[i]!) > 1e-6 + 1e-5 * Math.abs(numeric)) {
        throw new Error(`${layer.className} '${layer.name}' ${what}[${i}]: analytic ${analytic[i]} vs numeric ${numeric} (in ${JSON.stringify(inShape)}, N ${N})`);
      }
    }
  };
  check(x, dx, 'dx');
  layer.params().forEach((p, j) => check(hostParams[j]!, grads[j]!, p.name));
}

const img = fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 3, max: 7 }), W: fc.integer({ min: 3, max: 7 }), seed: fc.nat(1000) });

describe('layer gradients (float64 finite differences)', () => {
  it('Convolution, every stride/padding/dilation', () => {
    fc.assert(fc.property(img, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }),
      ({ N, C, H, W, seed }, R, S, stride, pad, dil, K) => {
        fc.pre(dil * (R - 1) + 1 <= H + 2 * pad && dil * (S - 1) + 1 <= W + 2 * pad);
        layerGradcheck(new Convolution([R, S, K], { strides: stride, padding: pad, dilation: dil }), [C, H, W], N, seed);
      }), { numRuns: 25 });
  });
  it('Bias after a conv and after a linear layer', () => {
    fc.assert(fc.property(img, ({ N, C, H, W, seed }) => {
      layerGradcheck(new Bias({ init: new Gaussian() }), [C, H, W], N, seed);
      layerGradcheck(new Bias(), [C * H], N, seed);
    }), { numRuns: 15 });
  });
  it('Linear from an image (flattened C·H·W) and from a vector', () => {
    fc.assert(fc.property(img, fc.integer({ min: 1, max: 5 }), ({ N, C, H, W, seed }, nout) => {
      layerGradcheck(new Linear(nout), [C, H, W], N, seed);
      layerGradcheck(new Linear(nout), [C + H], N, seed);
    }), { numRuns: 15 });
  });
  it('Pooling max and avg, with strides and padding', () => {
    fc.assert(fc.property(img, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1 }), fc.constantFrom<'max' | 'avg'>('max', 'avg'),
      ({ N, C, H, W, seed }, k, stride, pad, op) => {
        fc.pre(2 * pad <= k);
        layerGradcheck(new Pooling(k, { strides: stride, padding: pad, op }), [C, H, W], N, seed);
      }), { numRuns: 25 });
  });
  it('Activations: Rectlin (away from 0), Logistic, Tanh, Identity', () => {
    fc.assert(fc.property(img, ({ N, C, H, W, seed }) => {
      layerGradcheck(new Activation(Rectlin()), [C, H, W], N, seed, { avoidZero: true });
      layerGradcheck(new Activation(Logistic()), [C, H, W], N, seed);
      layerGradcheck(new Activation(Tanh()), [C * W], N, seed);
      layerGradcheck(new Activation(Identity()), [H], N, seed);
    }), { numRuns: 10 });
  });
  it('Dropout in both modes (mask fixed by the generator state)', () => {
    fc.assert(fc.property(img, fc.constantFrom<'neon' | 'caffe'>('neon', 'caffe'), fc.double({ min: 0.2, max: 1, noNaN: true }), ({ N, C, H, W, seed }, mode, keep) => {
      layerGradcheck(new Dropout({ keep, mode }), [C, H, W], N, seed);
    }), { numRuns: 15 });
  });
});

describe('neon output-layer semantics', () => {
  it('Softmax + CrossEntropyBinary/Multi back-propagate exactly y − t into the softmax input', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), fc.nat(1000), (N, K, seed) => {
      const g = new Generator(seed);
      const sm = new Activation(Softmax());
      sm.configure([K]);
      const x = tensor(new Float32Array(N * K).map(() => g.uniform(-3, 3)), [N, K]);
      const t = new Float32Array(N * K);
      for (let n = 0; n < N; n++) t[n * K + g.randint(K)] = 1;
      const y = sm.fprop(x, false);
      for (const cf of [CrossEntropyBinary(), CrossEntropyMulti()]) {
        const cost = new GeneralizedCost(cf);
        const dx = sm.bprop(cost.getErrors(y, tensor(t, [N, K])), true)!.data;
        const yd = y.data;
        for (let i = 0; i < N * K; i++) expect(dx[i]).toBeCloseTo(yd[i]! - t[i]!, 6);
      }
    }), { numRuns: 30 });
  });
  it('Logistic without shortcut multiplies by y(1−y); with shortcut passes the delta through', () => {
    const x = tensor(Float32Array.from([-1, 0, 2]), [1, 3]);
    const d = tensor(Float32Array.from([1, 1, 1]), [1, 3]);
    const plain = new Activation(Logistic());
    plain.configure([3]);
    const y = plain.fprop(x, false).data;
    const dx = plain.bprop(d, true)!.data;
    for (let i = 0; i < 3; i++) expect(dx[i]).toBeCloseTo(y[i]! * (1 - y[i]!), 6);
    const short = new Activation(Logistic({ shortcut: true }));
    short.configure([3]);
    short.fprop(x, false);
    expect(Array.from(short.bprop(d, true)!.data)).toEqual([1, 1, 1]);
  });
  it('Dropout: neon mode trains without rescale and scales by keep at inference; caffe mode is inverted', () => {
    const x = tensor(new Float32Array(10000).fill(2), [100, 100]);
    for (const mode of ['neon', 'caffe'] as const) {
      const d = new Dropout({ keep: 0.3, mode });
      d.configure([100]);
      const y = d.fprop(x, false).data;
      const kept = y.filter((v) => v !== 0);
      expect(kept.length / y.length).toBeGreaterThan(0.27);
      expect(kept.length / y.length).toBeLessThan(0.33);
      expect(new Set(kept)).toEqual(new Set([mode === 'neon' ? 2 : Math.fround(2 / 0.3)]));
      expect(d.fprop(x, true).data[0]).toBeCloseTo(mode === 'neon' ? 0.6 : 2, 6);
    }
  });
  it('Rectlin derivative is taken on the output and is 0 at 0', () => {
    const a = new Activation(Rectlin());
    a.configure([3]);
    a.fprop(tensor(Float32Array.from([-1, 0, 1]), [1, 3]), false);
    expect(Array.from(a.bprop(tensor(Float32Array.from([5, 5, 5]), [1, 3]), true)!.data)).toEqual([0, 0, 5]);
  });
});
