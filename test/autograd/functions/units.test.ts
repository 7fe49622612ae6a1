// The units of src/autograd/functions hold each op's forward and backward once; the tape's
// ops and neon's layers both call them. Their gradients are checked numerically through
// the ops (test/autograd/conv-pool.test.ts, nn.test.ts, elementwise.test.ts) and the
// layers (test/layers/layers.test.ts). Here, over random shapes with fast-check: a layer and
// its op give the same bits (forward, input gradient, parameter gradient), where they
// differ only in neon's conventions; the gradient targets a layer passes (its Param.grad)
// get what a fresh gradient would; and the pooling window's check holds for both.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  avgPool2d, backward, biasAdd, conv2d, dropout, Generator, linear, logistic, manualSeed, maxPool2d, relu, softmax, tanh, tensor, type Tensor,
} from '../../../src/index.js';
import { Activation, Bias, Convolution, Dropout, Linear, Logistic, Pooling, Rectlin, Softmax, Tanh, type Layer } from '../../../src/layers/index.js';
import { conv2dBackward, conv2dForward } from '../../../src/autograd/functions/conv2d.js';
import { linearBackward } from '../../../src/autograd/functions/linear.js';
import { biasBackward } from '../../../src/autograd/functions/bias.js';
import { poolWindow } from '../../../src/autograd/functions/pool.js';
import { windowGeometry } from '../../../src/kernels/geometry.js';
import { convCaseArb, poolCaseArb, sizeOfShape } from '../../helpers/arbitraries.js';
import { expectClose } from '../../helpers/check.js';

/** float32 values in [−1, 1) from a seeded generator. */
function f32(shape: number[], gen: Generator, requiresGrad = false): Tensor {
  return tensor(Float32Array.from({ length: sizeOfShape(shape) }, () => gen.uniform(-1, 1)), shape, { requiresGrad });
}

/** The values, with −0 as +0: the tape stores a leaf's gradient as g + 0 (src/autograd/graph.ts), which turns −0 into +0. */
const bits = (t: Tensor | null | undefined): number[] => Array.from(t!.data, (v) => v + 0);

/**
 * Runs `layer` (configured for inShape) and `op` (the same math on the tape, over leaves
 * holding the layer's parameter values) on one batch and one delta, and expects the same
 * bits: outputs, input gradients, and each parameter's gradient.
 */
function expectLayerIsOp(layer: Layer, inShape: number[], N: number, seed: number, op: (x: Tensor, ...params: Tensor[]) => Tensor): void {
  const gen = new Generator(seed);
  const outShape = layer.configure(inShape);
  const params = layer.params();
  for (const p of params) p.value.setValues(Float32Array.from({ length: p.value.size }, () => gen.uniform(-1, 1)));
  const x = f32([N, ...inShape], gen, true);
  const delta = f32([N, ...outShape], gen);
  const leaves = params.map((p) => tensor(Float32Array.from(p.value.data), p.value.shape, { requiresGrad: true }));

  const yLayer = layer.fprop(x, false);
  const dxLayer = layer.bprop(delta, true);
  const yOp = op(x, ...leaves);
  backward(yOp, delta);

  const what = `${layer.className} on ${JSON.stringify([N, ...inShape])}`;
  expect(bits(yLayer), `${what}: forward`).toEqual(bits(yOp));
  expect(bits(dxLayer), `${what}: dx`).toEqual(bits(x.grad));
  params.forEach((p, j) => expect(bits(p.grad), `${what}: d${p.name}`).toEqual(bits(leaves[j]!.grad)));
}

const dense = fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 4 }), H: fc.integer({ min: 1, max: 3 }), W: fc.integer({ min: 1, max: 3 }), seed: fc.nat(1000) });

describe('a layer is its op, called without the tape: the same bits', () => {
  it('Convolution = conv2d, every stride, padding and dilation', () => {
    fc.assert(fc.property(convCaseArb(), fc.nat(1000), (c, seed) => {
      const layer = new Convolution([c.R, c.S, c.K], { strides: c.stride, padding: c.padding, dilation: c.dilation });
      expectLayerIsOp(layer, [c.C, c.H, c.W], c.N, seed, (x, w) => conv2d(x, w!, null, { stride: c.stride, padding: c.padding, dilation: c.dilation }));
    }), { numRuns: 25 });
  });

  it('Pooling = maxPool2d / avgPool2d', () => {
    fc.assert(fc.property(poolCaseArb(), fc.boolean(), fc.nat(1000), (c, max, seed) => {
      const layer = new Pooling(c.kernel, { strides: c.stride, padding: c.padding, op: max ? 'max' : 'avg' });
      const opts = { kernel: c.kernel, stride: c.stride, padding: c.padding };
      expectLayerIsOp(layer, [c.C, c.H, c.W], c.N, seed, (x) => (max ? maxPool2d(x, opts) : avgPool2d(x, opts)));
    }), { numRuns: 25 });
  });

  it('Linear = linear (inputs flattened per example), Bias = biasAdd', () => {
    fc.assert(fc.property(dense, fc.integer({ min: 1, max: 5 }), ({ N, C, H, W, seed }, nout) => {
      expectLayerIsOp(new Linear(nout), [C, H, W], N, seed, (x, w) => linear(x.reshape([N, C * H * W]), w!));
      expectLayerIsOp(new Bias(), [C, H, W], N, seed, (x, b) => biasAdd(x, b!));
      expectLayerIsOp(new Bias(), [C], N, seed, (x, b) => biasAdd(x, b!));
    }), { numRuns: 25 });
  });

  it('Activation(Rectlin, Logistic, Tanh) = relu, logistic, tanh; Softmax\'s forward = softmax', () => {
    fc.assert(fc.property(dense, ({ N, C, H, W, seed }) => {
      expectLayerIsOp(new Activation(Rectlin()), [C, H, W], N, seed, relu);
      expectLayerIsOp(new Activation(Logistic()), [C, H, W], N, seed, logistic);
      expectLayerIsOp(new Activation(Tanh()), [C, H, W], N, seed, tanh);
      // The layer's bprop is neon's shortcut (the delta passes through), so only the forward compares.
      const x = f32([N, C], new Generator(seed));
      const layer = new Activation(Softmax());
      layer.configure([C]);
      expect(bits(layer.fprop(x, false))).toEqual(bits(softmax(x)));
    }), { numRuns: 15 });
  });

  it('Dropout = dropout, with the same generator state (both modes)', () => {
    fc.assert(fc.property(dense, fc.constantFrom('neon', 'caffe') as fc.Arbitrary<'neon' | 'caffe'>, fc.double({ min: 0.1, max: 1, noNaN: true }), ({ N, C, H, W, seed }, mode, keep) => {
      manualSeed(seed);
      const layer = new Dropout({ keep, mode });
      const inShape = [C, H, W];
      layer.configure(inShape);
      const gen = new Generator(seed);
      const x = f32([N, ...inShape], gen, true), delta = f32([N, ...inShape], gen);
      const yLayer = layer.fprop(x, false), dxLayer = layer.bprop(delta, true);
      manualSeed(seed);
      const yOp = dropout(x, keep, { mode });
      backward(yOp, delta);
      expect(bits(yLayer)).toEqual(bits(yOp));
      expect(bits(dxLayer)).toEqual(bits(x.grad));
      // At inference both scale by the mode's factor.
      expect(bits(layer.fprop(x, true))).toEqual(bits(dropout(x, keep, { mode, training: false })));
    }), { numRuns: 15 });
  });
});

describe('gradient targets: a Param.grad given to a backward gets what a fresh gradient gets', () => {
  it('conv2dBackward sums dw and db into the tensors given (zeroed, as the layer does, to overwrite)', () => {
    const gen = new Generator(3);
    const x = f32([2, 2, 5, 4], gen), w = f32([3, 2, 3, 2], gen), b = f32([3], gen);
    const g = windowGeometry('conv2d', 2, 5, 4, 3, 2, { padding: 1 });
    const { y, saved } = conv2dForward(x.backend, x, w, b, g);
    const dy = f32(y.shape as number[], gen);
    const fresh = conv2dBackward(saved, dy, { dx: true, dw: true, db: true });
    const dw = f32(w.shape as number[], gen), db = f32([3], gen);
    const before = [bits(dw), bits(db)];
    const into = conv2dBackward(saved, dy, { dx: false, dw, db });
    expect(into.dx).toBeNull();
    expect(into.dw).toBe(dw);
    // The kernel adds its partial sums to what is there, so the rounding differs from before + fresh.
    expectClose(dw.data, bits(fresh.dw).map((v, i) => before[0]![i]! + v), 'dw summed into', 1e-6, 1e-6);
    expectClose(db.data, bits(fresh.db).map((v, i) => before[1]![i]! + v), 'db summed into', 1e-6, 1e-6);
    expect(conv2dBackward(saved, dy, { dx: false, dw: false, db: false })).toEqual({ dx: null, dw: null, db: null });
  });

  it('linearBackward and biasBackward overwrite the tensor given', () => {
    const gen = new Generator(4);
    const x = f32([3, 4], gen), w = f32([2, 4], gen), dy = f32([3, 2], gen);
    const fresh = linearBackward(x, w, dy, { dx: true, dw: true });
    const dw = f32([2, 4], gen);
    const into = linearBackward(x, w, dy, { dx: false, dw });
    expect(into).toEqual({ dx: null, dw });
    expect(bits(dw)).toEqual(bits(fresh.dw));
    const db = f32([2], gen);
    expect(biasBackward(x.backend, dy, db)).toBe(db);
    expect(bits(db)).toEqual(bits(biasBackward(x.backend, dy, true)));
  });
});

describe('one pooling window check for the op and the layer', () => {
  it('padding above half the window is refused, named by the op or the layer', () => {
    expect(() => poolWindow('maxPool2d', 1, 4, 4, 2, { padding: 2 })).toThrow('maxPool2d: padding 2,2 must be at most half the kernel 2×2');
    const x = tensor(new Float32Array(16), [1, 1, 4, 4]);
    expect(() => maxPool2d(x, { kernel: 3, padding: [1, 2] })).toThrow('maxPool2d: padding 1,2 must be at most half the kernel 3×3');
    expect(() => new Pooling(2, { padding: 2, name: 'p' }).configure([1, 4, 4])).toThrow("layer 'p': padding 2,2 must be at most half the kernel 2×2");
    expect(() => new Pooling([3, 2], { padding: [1, 1], name: 'p' }).configure([1, 4, 4])).not.toThrow();
  });
});
