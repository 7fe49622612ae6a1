// One backprop story: a layer is an op with parameters, called without the tape. Each op's
// forward and backward are written once (src/autograd/functions); the autograd ops
// (src/autograd/ops) call them and record a tape to replay backwards, the layers
// (src/layers) call them in fprop and bprop, layer by layer, as neon does. This test runs
// the same reduced VGG-16 both ways and checks that they agree: the outputs (bit for bit in
// float32, since the same units run), the cost, and the gradient of every parameter.
//
// Conventions that differ between the two (docs/guide/04-layers.md explains them):
// - neon's layer gradients are SUMS over the batch, and the delta fed into the Softmax
//   layer is y − t (GeneralizedCost.getErrors); the optimizer divides by the batch size.
// - the tape's cost ops return the batch MEAN, and back-propagate its true derivative.
// So: tape(crossEntropyMulti)·N = layers. And for two classes with one-hot targets,
// crossEntropyBinary = 2·crossEntropyMulti (both output units contribute −ln y_true), so
// tape(crossEntropyBinary)·N = 2·layers: neon's y − t is the CE-multi gradient even when
// the model's cost is CrossEntropyBinary (the lab's choice).
import { describe, expect, it } from 'vitest';
import {
  biasAdd, conv2d, crossEntropyBinary, crossEntropyMulti, dropout, flatten, linear, manualSeed, maxPool2d, relu, softmax, tensor,
  Generator, type Tensor,
} from '../../src/index.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { BaseLayer, resetLayerNames, type Layer } from '../../src/layers/layer.js';
import type { Activation } from '../../src/layers/activation.js';
import type { Convolution } from '../../src/layers/convolution.js';
import type { Dropout } from '../../src/layers/dropout.js';
import type { Pooling } from '../../src/layers/pooling.js';
import type { Model } from '../../src/models/model.js';
import { expectClose } from '../helpers/check.js';

const N = 3;

function buildModel(dtype: 'float32' | 'float64' = 'float64'): Model {
  resetLayerNames();
  manualSeed(15);
  const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 1 });
  // float64 parameters, so that the gradients of the two ways can be compared to ~1e-12.
  for (const l of m.layers) if (l instanceof BaseLayer) l.dtype = dtype;
  m.initialize([3, 32, 32]);
  return m;
}

function batch(dtype: 'float32' | 'float64' = 'float64'): { x: Tensor; t: Tensor } {
  const g = new Generator(7);
  const x = tensor(Float64Array.from({ length: N * 3 * 32 * 32 }, () => g.uniform(-1, 1)), [N, 3, 32, 32], { dtype });
  const t = tensor(Float64Array.from([1, 0, 0, 1, 1, 0]), [N, 2], { dtype });
  return { x, t };
}

/** Each parameter of the model as a tape leaf holding the same values. */
function leavesOf(m: Model): Map<string, Tensor> {
  const leaves = new Map<string, Tensor>();
  for (const l of m.layers) {
    for (const p of l.params()) {
      leaves.set(`${l.name}.${p.name}`, tensor(p.value.toHost().slice(), p.value.shape, { dtype: p.value.dtype, requiresGrad: true }));
    }
  }
  return leaves;
}

/** The same network written with the autograd ops, layer by layer (one op per neon layer). */
function tapeForward(m: Model, leaves: Map<string, Tensor>, x: Tensor): Tensor {
  let h = x;
  for (const l of m.layers as Layer[]) {
    const p = (name: string) => leaves.get(`${l.name}.${name}`)!;
    switch (l.className) {
      case 'Convolution': {
        const c = l as Convolution;
        h = conv2d(h, p('W'), null, { stride: c.opts.strides, padding: c.opts.padding, dilation: c.opts.dilation });
        break;
      }
      case 'Bias': h = biasAdd(h, p('b')); break;
      case 'Activation': {
        const a = l as Activation;
        h = a.transform.name === 'Rectlin' ? relu(h) : softmax(h);
        break;
      }
      case 'Pooling': {
        const pl = l as Pooling;
        h = maxPool2d(h, { kernel: pl.fshape, stride: pl.opts.strides });
        break;
      }
      case 'Linear': h = linear(h.ndim > 2 ? flatten(h) : h, p('W')); break;
      case 'Dropout': h = dropout(h, (l as Dropout).keep, { training: true, mode: (l as Dropout).mode }); break;
      default: throw new Error(`no tape op for layer ${l.name} (${l.className})`);
    }
  }
  return h;
}

describe('one backprop story: neon layers (the ops\' units without the tape) = autograd tape', () => {
  it('in float32 the two forward passes give the same bits: each layer calls its op\'s unit', () => {
    const m = buildModel('float32');
    const { x } = batch('float32');
    const yLayers = m.fprop(x, false);
    const yTape = tapeForward(m, leavesOf(m), x);
    expect(yTape.dtype).toBe('float32');
    expect(Array.from(yTape.data)).toEqual(Array.from(yLayers.data));
  });

  it('reduced VGG-16 at 32×32: same outputs, same cost, and every parameter gradient (tape mean × N = layers sum)', () => {
    const m = buildModel();
    const { x, t } = batch();

    // Path 1: neon's protocol. fprop, the cost's delta y − t, bprop layer by layer.
    const yLayers = m.fprop(x, false);
    const costLayers = m.cost!.getCost(yLayers, t);
    m.bprop(m.cost!.getErrors(yLayers, t));

    // Path 2: the tape, cross-entropy-multi (its gradient at the softmax input is (y − t)/N).
    const leaves = leavesOf(m);
    const yTape = tapeForward(m, leaves, x);
    expectClose(yTape.data, yLayers.data, 'model outputs', 1e-12, 1e-14);
    crossEntropyMulti(yTape, t).backward();

    // The model's cost is CrossEntropyBinary; the tape computes the same number.
    expect(crossEntropyBinary(yTape, t).item()).toBeCloseTo(costLayers, 12);

    let compared = 0;
    for (const l of m.layers) {
      for (const p of l.params()) {
        const leaf = leaves.get(`${l.name}.${p.name}`)!;
        const tapeSum = Float64Array.from(leaf.grad!.data, (v) => v * N);
        expectClose(tapeSum, p.grad.data, `gradient of ${l.name}.${p.name}`, 1e-9, 1e-12);
        compared++;
      }
    }
    // 13 convs + 13 conv biases + 3 linear + 3 linear biases.
    expect(compared).toBe(32);
  });

  it('with the tape on crossEntropyBinary instead, every gradient is exactly twice neon\'s (two classes, one-hot targets)', () => {
    const m = buildModel();
    const { x, t } = batch();
    const y = m.fprop(x, false);
    m.bprop(m.cost!.getErrors(y, t));
    const leaves = leavesOf(m);
    crossEntropyBinary(tapeForward(m, leaves, x), t).backward();
    for (const l of m.layers) {
      for (const p of l.params()) {
        const leaf = leaves.get(`${l.name}.${p.name}`)!;
        expectClose(Float64Array.from(leaf.grad!.data, (v) => (v * N) / 2), p.grad.data, `½·N·tape gradient of ${l.name}.${p.name}`, 1e-9, 1e-12);
      }
    }
  });
});
