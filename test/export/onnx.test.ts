// The ONNX export run by onnxruntime (onnxruntime-node, CPU) against our own inference:
// the reduced and the full-width VGG-16 transfer models at 32×32, and a small model that
// uses every other layer variant the exporter writes. Outputs must agree within 1e-4.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import {
  Activation, Bias, Constant, Convolution, Dropout, exportModel, generateVgg16TransferModel, Linear, Logistic, Model,
  onnxBytes, Pooling, Rectlin, Softmax, Tanh, TlError, Uniform, manualSeed, BaseLayer, type Tensor,
} from '../../src/index.js';
import { onnxModelProto } from '../../src/export/onnx-proto.js';
import { maxAbsDiff, ours, randomInput, spread, spreadWeights } from './helpers.js';

const TOL = 1e-4;

async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, shape) });
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['output']);
    return { data: out.output!.data as Float32Array, dims: out.output!.dims };
  } finally {
    await session.release();
  }
}

async function compare(model: Model, n: number, seed = 7): Promise<{ diff: number; y: Float32Array }> {
  const x = randomInput(n, model.inShape!, seed);
  const y = ours(model, x, n);
  const r = await runOrt(onnxBytes(model), x, [n, ...model.inShape!]);
  expect(r.dims).toEqual([n, ...model.outShape]);
  return { diff: maxAbsDiff(r.data, y), y };
}

describe('ONNX export in onnxruntime', () => {
  it('the reduced VGG-16 transfer model (×1/16, fc 16) gives our outputs', async () => {
    manualSeed(3);
    const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
    model.initialize([3, 32, 32]);
    spreadWeights(model);
    const { diff, y } = await compare(model, 4);
    expect(spread(y, 2)).toBeGreaterThan(0.01);
    expect(diff).toBeLessThan(TOL);
  });

  it('the VGG-16 graph declares opset ≥ 13 and uses only the ops issue 14 names (dropout as a Mul by keep)', () => {
    const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
    model.initialize([3, 32, 32]);
    const T = onnxModelProto();
    const m = T.toObject(T.decode(onnxBytes(model)), { longs: Number }) as {
      opset_import: { domain?: string; version: number }[];
      graph: { node: { op_type: string }[]; input: { name: string }[]; output: { name: string }[] };
    };
    const defaultDomain = m.opset_import.filter((o) => !o.domain);
    expect(defaultDomain).toHaveLength(1);
    expect(defaultDomain[0]!.version).toBeGreaterThanOrEqual(13);
    const count = (op: string) => m.graph.node.filter((n) => n.op_type === op).length;
    expect(new Set(m.graph.node.map((n) => n.op_type))).toEqual(new Set(['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Mul', 'Softmax']));
    expect([count('Conv'), count('MaxPool'), count('Gemm'), count('Mul'), count('Softmax')]).toEqual([13, 5, 3, 2, 1]);
    expect(count('Relu')).toBe(15);
    expect(m.graph.input.map((v) => v.name)).toEqual(['input']);
    expect(m.graph.output.map((v) => v.name)).toEqual(['output']);
  });

  it('the full-width VGG-16 transfer model (fc 4096, 134 MB of weights) at 32×32 gives our outputs', async () => {
    manualSeed(4);
    const model = generateVgg16TransferModel();
    model.initialize([3, 32, 32]);
    spreadWeights(model, 2, 1);
    const { diff, y } = await compare(model, 2);
    expect(spread(y, 2)).toBeGreaterThan(1e-3);
    expect(diff).toBeLessThan(TOL);
  }, 120_000);

  it('every other layer variant: strided and dilated convs, a lone Bias, average pooling with padding, Logistic, Tanh, an image softmax, Linear without bias, both dropout modes', async () => {
    manualSeed(5);
    const model = new Model([
      // unequal height and width in every attribute (and in the input): an exporter writing
      // strides, dilations or pads in [W, H] order gives another output shape or other values
      new Convolution([3, 3, 6], { strides: [2, 1], padding: [1, 0], name: 'c1' }),
      new Bias({ init: new Uniform(-0.2, 0.2), name: 'c1_bias' }),
      new Activation(Tanh(), { name: 't1' }),
      new Convolution([3, 3, 5], { dilation: [1, 2], padding: [1, 2], name: 'c2' }),
      new Activation(Logistic(), { name: 's2' }),
      new Bias({ init: new Uniform(-0.5, 0.5), name: 'lone_bias' }),
      new Pooling(3, { op: 'avg', strides: 2, padding: 1, name: 'avg' }),
      new Dropout({ keep: 0.8, name: 'drop_neon' }),
      new Activation(Softmax(), { name: 'image_softmax' }),
      new Pooling([2, 3], { strides: [1, 2], padding: [1, 1], name: 'max' }),
      new Linear(7, { name: 'fc' }),
      new Dropout({ keep: 0.6, mode: 'caffe', name: 'drop_caffe' }),
      new Activation(Rectlin(), { name: 'r' }),
      new Linear(3, { name: 'out' }),
      new Bias({ init: new Constant(0.1), name: 'out_bias' }),
    ]);
    model.initialize([2, 15, 13]);
    const { diff } = await compare(model, 3);
    expect(diff).toBeLessThan(TOL);
  });
});

describe('ONNX export: what it cannot write', () => {
  class Swish extends BaseLayer {
    readonly className = 'Swish';
    constructor() { super('swish', 'Swish'); }
    protected computeOutShape(s: readonly number[]) { return [...s]; }
    fprop(x: Tensor): Tensor { return x; }
    bprop(d: Tensor): Tensor { return d; }
  }
  const out = () => mkdtempSync(join(tmpdir(), 'tl-onnx-'));

  it('a layer with no ONNX equivalent: one clear error naming it, no file left', () => {
    const model = new Model([new Linear(4, { name: 'fc' }), new Swish()]);
    model.initialize([3]);
    const d = out();
    expect(() => exportModel(model, join(d, 'm.onnx'), 'onnx')).toThrow(TlError);
    expect(() => exportModel(model, join(d, 'm.onnx'), 'onnx')).toThrow("cannot export to ONNX: layer 'swish' (Swish) has no ONNX equivalent");
    expect(readdirSync(d)).toEqual([]);
  });

  it('a pooling window cannot lie wholly in its padding (ONNX has no such window): the layer refuses it, and the most padding it allows exports', () => {
    expect(() => new Model([new Pooling(2, { strides: 2, padding: 2, name: 'p' })]).initialize([1, 4, 4])).toThrow(/layer 'p'.*padding 2,2 must be at most half the kernel 2×2/);
    const model = new Model([new Pooling(2, { strides: 2, padding: 1, name: 'p' })]);
    model.initialize([1, 4, 4]);
    const d = out();
    exportModel(model, join(d, 'm.onnx'), 'onnx');
    expect(readdirSync(d)).toEqual(['m.onnx']);
  });

  it('an uninitialized model', () => {
    expect(() => onnxBytes(generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 }))).toThrow(/not initialized/);
  });
});
