// Differential tests against PyTorch 1.13: the committed files in test/fixtures/torch/
// (written by scripts/fixtures/make_torch_reference.py, which CI does not run) hold inputs,
// outputs, a fixed upstream gradient and every input gradient for conv2d, max/avg pooling,
// linear, softmax / logistic + the neon cross-entropies, and (log-)softmax over an axis.
// We recompute all of them in float32 and require a norm-wise relative error
// ‖ours − torch‖₂ / ‖torch‖₂ ≤ 1e-5 for every tensor.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  avgPool2d, conv2d, crossEntropyBinary, crossEntropyMulti, linear, logistic, logSoftmax, maxPool2d, softmax, tensor, type Tensor,
} from '../../src/index.js';
import { expectRelNorm } from '../helpers/check.js';

const TOL = 1e-5;

interface Encoded { shape: number[]; data: string }
interface Case { name: string; params: Record<string, unknown>; tensors: Record<string, Encoded> }
interface Fixture { torch: string; cases: Case[] }

function load(file: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../fixtures/torch/${file}`, import.meta.url), 'utf8')) as Fixture;
}

function decode(e: Encoded): Float32Array {
  const bytes = Buffer.from(e.data, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  if (out.length !== e.shape.reduce((p, d) => p * d, 1)) throw new Error(`fixture tensor of shape [${e.shape}] has ${out.length} values`);
  return out;
}

/** Accessors for one case: `leaf(name)` makes a float32 tensor requiring grad, `ref(name)` the reference values. */
function tensors(c: Case) {
  const get = (k: string) => {
    const e = c.tensors[k];
    if (!e) throw new Error(`fixture case ${c.name} has no tensor '${k}'`);
    return e;
  };
  return {
    has: (k: string) => k in c.tensors,
    leaf: (k: string, requiresGrad = true) => tensor(decode(get(k)), get(k).shape, { requiresGrad }),
    ref: (k: string) => decode(get(k)),
    shape: (k: string) => get(k).shape,
  };
}

function compare(c: Case, what: string, ours: Tensor | null, ref: Float32Array, shape: number[]): void {
  if (!ours) throw new Error(`${c.name}: no ${what} computed`);
  expect(ours.shape, `${c.name}: shape of ${what}`).toEqual(shape);
  expectRelNorm(ours.data, ref, `${c.name}: ${what} vs PyTorch`, TOL);
}

describe('conv2d vs PyTorch', () => {
  const fx = load('conv2d.json');
  it('fixtures are present', () => expect(fx.cases.length).toBeGreaterThanOrEqual(4));
  for (const c of fx.cases) {
    it(c.name, () => {
      const t = tensors(c);
      const p = c.params as { stride: [number, number]; padding: [number, number]; dilation: [number, number]; bias: boolean };
      const x = t.leaf('x'), w = t.leaf('w'), b = p.bias ? t.leaf('b') : null;
      const y = conv2d(x, w, b, { stride: p.stride, padding: p.padding, dilation: p.dilation });
      compare(c, 'y', y, t.ref('y'), t.shape('y'));
      y.backward(t.leaf('gy', false));
      compare(c, 'dx', x.grad, t.ref('dx'), t.shape('x'));
      compare(c, 'dw', w.grad, t.ref('dw'), t.shape('w'));
      if (b) compare(c, 'db', b.grad, t.ref('db'), t.shape('b'));
    });
  }
});

describe('pooling vs PyTorch', () => {
  const fx = load('pool.json');
  it('fixtures are present', () => expect(fx.cases.length).toBeGreaterThanOrEqual(4));
  for (const c of fx.cases) {
    it(c.name, () => {
      const t = tensors(c);
      const p = c.params as { op: 'max' | 'avg'; kernel: [number, number]; stride: [number, number]; padding: [number, number]; countIncludePad?: boolean };
      const x = t.leaf('x');
      const opts = { kernel: p.kernel, stride: p.stride, padding: p.padding };
      const y = p.op === 'max' ? maxPool2d(x, opts) : avgPool2d(x, { ...opts, countIncludePad: p.countIncludePad });
      compare(c, 'y', y, t.ref('y'), t.shape('y'));
      y.backward(t.leaf('gy', false));
      compare(c, 'dx', x.grad, t.ref('dx'), t.shape('x'));
    });
  }
});

describe('linear vs PyTorch', () => {
  const fx = load('linear.json');
  for (const c of fx.cases) {
    it(c.name, () => {
      const t = tensors(c);
      const x = t.leaf('x'), w = t.leaf('w'), b = t.has('b') ? t.leaf('b') : null;
      const y = linear(x, w, b);
      compare(c, 'y', y, t.ref('y'), t.shape('y'));
      y.backward(t.leaf('gy', false));
      compare(c, 'dx', x.grad, t.ref('dx'), t.shape('x'));
      compare(c, 'dw', w.grad, t.ref('dw'), t.shape('w'));
      if (b) compare(c, 'db', b.grad, t.ref('db'), t.shape('b'));
    });
  }
});

describe('softmax / logistic + neon cross-entropies vs PyTorch (BCE summed over classes, mean over the batch)', () => {
  const fx = load('softmax_bce.json');
  for (const c of fx.cases) {
    it(c.name, () => {
      const t = tensors(c);
      const p = c.params as { cost: 'crossEntropyBinary' | 'crossEntropyMulti'; activation: 'softmax' | 'logistic'; axis?: number };
      const cost = p.cost === 'crossEntropyBinary' ? crossEntropyBinary : crossEntropyMulti;
      const act = (z: Tensor) => (p.activation === 'softmax' ? softmax(z, p.axis) : logistic(z));
      const z = t.leaf('z'), target = t.leaf('t', false);
      const y = act(z);
      compare(c, 'y', y, t.ref('y'), t.shape('y'));
      const loss = cost(y, target);
      compare(c, 'loss', loss, t.ref('loss'), []);
      loss.backward();
      compare(c, 'dz', z.grad, t.ref('dz'), t.shape('z'));
      // The gradient with respect to the activation's output: y as a leaf.
      const yLeaf = tensor(Float32Array.from(y.data), y.shape, { requiresGrad: true });
      cost(yLeaf, target).backward();
      compare(c, 'dy', yLeaf.grad, t.ref('dy'), t.shape('y'));
    });
  }
});

describe('softmax and log-softmax over an axis vs PyTorch', () => {
  const fx = load('log_softmax.json');
  for (const c of fx.cases) {
    it(c.name, () => {
      const t = tensors(c);
      const p = c.params as { op: 'softmax' | 'logSoftmax'; axis: number };
      const z = t.leaf('z');
      const y = (p.op === 'softmax' ? softmax : logSoftmax)(z, p.axis);
      compare(c, 'y', y, t.ref('y'), t.shape('y'));
      y.backward(t.leaf('gy', false));
      compare(c, 'dz', z.grad, t.ref('dz'), t.shape('z'));
    });
  }
});

describe('the comparison is sensitive', () => {
  it('one weight off by 0.1% is caught by the 1e-5 tolerance', () => {
    const c = load('conv2d.json').cases.find((k) => k.name.startsWith('stride2'))!;
    const t = tensors(c);
    const p = c.params as { stride: [number, number]; padding: [number, number]; dilation: [number, number] };
    const w = t.leaf('w');
    w.data[0]! *= 1.001;
    const y = conv2d(t.leaf('x'), w, t.leaf('b'), { stride: p.stride, padding: p.padding, dilation: p.dilation });
    expect(() => compare(c, 'y', y, t.ref('y'), t.shape('y'))).toThrow(/y vs PyTorch: relative error ‖a−b‖\/‖b‖ = [\d.e-]+ > 0\.00001/);
  });
});
