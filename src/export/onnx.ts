// ONNX export: the model description (its layers, their configs and parameters) written as
// an ONNX graph, opset 13, encoded with protobufjs from the schema in onnx-proto.ts.
//
//   Convolution (+ the Bias right after it)  Conv(x, W, B), W [K, C, R, S] as ours
//   Linear (+ the Bias right after it)       Flatten(axis 1) when the input is an image, then
//                                            Gemm(x, W, B, transB=1), W [out, in] as ours
//   Bias on its own                          Add(x, b reshaped to [n, 1, 1] or [n])
//   Activation                               Relu, Sigmoid, Tanh, Softmax(axis 1) (an image
//                                            input is flattened, softmaxed, reshaped back), or
//                                            nothing for Identity
//   Pooling                                  MaxPool or AveragePool (count_include_pad=1, the
//                                            window clipped to the padded image as ours)
//   Dropout                                  inference: neon's mode scales by keep (y = keep·x),
//                                            written as Mul by a scalar constant; 'caffe' mode is
//                                            the identity at inference and writes nothing
//
// Dropout is deliberately not an ONNX Dropout node: ONNX's Dropout at inference is the
// identity, which is the 'caffe' (inverted) convention, not neon's keep·x. A Mul keeps the
// weights as they are in tl-scratch, so re-importing the file (src/formats/onnx.ts) gives
// the model back unchanged.
//
// The input is 'input' [N, C, H, W] with a symbolic batch size N, the output 'output'
// [N, ...] (the last layer's output: probabilities for the VGG-16 models). Parameters are
// initializers named '<layer>.W' and '<bias layer>.b', so they import by name.
import { Activation } from '../layers/activation.js';
import { Bias } from '../layers/bias.js';
import { Convolution } from '../layers/convolution.js';
import { Dropout } from '../layers/dropout.js';
import type { Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import { Pooling } from '../layers/pooling.js';
import { dropoutInferenceScale } from '../autograd/ops/dropout.js';
import type { Model } from '../models/model.js';
import { TlError } from '../util/errors.js';
import { onnxModelProto } from './onnx-proto.js';

/** The opset the exporter targets (every op it writes has this signature since opset 13). */
export const ONNX_OPSET = 13;
/** ONNX IR version 8 (ONNX 1.10+; onnxruntime ≥ 1.10 reads it). */
const ONNX_IR_VERSION = 8;

const FLOAT = 1;
const INT64 = 7;
const ATTR = { INT: 2, INTS: 7 } as const;

interface AttributeSpec { name: string; type: number; i?: number; f?: number; ints?: number[] }
interface NodeSpec { name: string; op_type: string; input: string[]; output: string[]; attribute: AttributeSpec[] }
interface TensorSpec { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

/** Options of {@link onnxBytes} and {@link exportModel}. */
export interface OnnxExportOptions {
  /** Name of the graph (default 'tl-scratch'). */
  graphName?: string;
  /** Extra metadata_props entries (key → value) stored in the model. */
  metadata?: Record<string, string>;
}

const intAttr = (name: string, i: number): AttributeSpec => ({ name, type: ATTR.INT, i });
const intsAttr = (name: string, ints: number[]): AttributeSpec => ({ name, type: ATTR.INTS, ints });
const pair = (p: unknown, dflt: number): [number, number] =>
  p === undefined ? [dflt, dflt] : typeof p === 'number' ? [p, p] : [(p as number[])[0]!, (p as number[])[1]!];

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorSpec {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  // raw_data is little-endian; copy so the bytes do not alias a backend's storage.
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(f32.buffer.slice(f32.byteOffset, f32.byteOffset + f32.byteLength)) };
}

function int64Tensor(name: string, values: number[]): TensorSpec {
  const b = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], data_type: INT64, raw_data: new Uint8Array(b.buffer) };
}

/** Why the exporter cannot write a layer as ONNX (thrown before anything is written). */
function cannot(l: Layer, why: string): never {
  throw new TlError(`cannot export to ONNX: layer '${l.name}' (${l.className}) ${why}`);
}

/** The layer's parameter values as float32 (a copy). */
function values(l: Layer, param: string): Float32Array {
  const p = l.params().find((q) => q.name === param);
  if (!p) throw new TlError(`cannot export: layer '${l.name}' has no parameter '${param}' (is the model initialized?)`);
  return Float32Array.from(p.value.toHost());
}

/** The graph (nodes, initializers, shapes) of an initialized model. */
function buildGraph(model: Model): { nodes: NodeSpec[]; inits: TensorSpec[]; output: string; outShape: number[] } {
  if (!model.inShape) throw new TlError('cannot export: the model is not initialized; call model.initialize([C, H, W]) first');
  const nodes: NodeSpec[] = [];
  const inits: TensorSpec[] = [];
  let x = 'input';
  let rank = model.inShape.length; // per example, without the batch axis
  const layers = model.layers;
  const node = (name: string, op: string, input: string[], attribute: AttributeSpec[] = [], output = name): string => {
    nodes.push({ name, op_type: op, input, output: [output], attribute });
    return output;
  };
  const flatten = (l: Layer): void => {
    if (rank > 1) {
      x = node(`${l.name}/flatten`, 'Flatten', [x], [intAttr('axis', 1)]);
      rank = 1;
    }
  };
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    const next = layers[i + 1];
    const fusedBias = next instanceof Bias ? next : null;
    if (l instanceof Convolution) {
      const cfg = l.describe().config;
      const [sh, sw] = pair(cfg.strides, 1), [ph, pw] = pair(cfg.padding, 0), [dh, dw] = pair(cfg.dilation, 1);
      const W = `${l.name}.W`;
      inits.push(floatTensor(W, [l.K, l.inShape[0]!, l.R, l.S], values(l, 'W')));
      const input = [x, W];
      if (fusedBias) {
        inits.push(floatTensor(`${fusedBias.name}.b`, [l.K], values(fusedBias, 'b')));
        input.push(`${fusedBias.name}.b`);
      }
      x = node(fusedBias ? fusedBias.name : l.name, 'Conv', input, [
        intsAttr('kernel_shape', [l.R, l.S]), intsAttr('strides', [sh, sw]), intsAttr('pads', [ph, pw, ph, pw]), intsAttr('dilations', [dh, dw]),
      ]);
      if (fusedBias) i++;
      rank = 3;
    } else if (l instanceof Linear) {
      flatten(l);
      const W = `${l.name}.W`;
      inits.push(floatTensor(W, [l.nout, l.inShape.reduce((a, b) => a * b, 1)], values(l, 'W')));
      const input = [x, W];
      if (fusedBias) {
        inits.push(floatTensor(`${fusedBias.name}.b`, [l.nout], values(fusedBias, 'b')));
        input.push(`${fusedBias.name}.b`);
      }
      x = node(fusedBias ? fusedBias.name : l.name, 'Gemm', input, [intAttr('transB', 1)]);
      if (fusedBias) i++;
      rank = 1;
    } else if (l instanceof Bias) {
      const n = l.inShape[0]!;
      const b = `${l.name}.b`;
      // Broadcast one value per channel (or unit) over the trailing axes.
      inits.push(floatTensor(b, [n, ...l.inShape.slice(1).map(() => 1)], values(l, 'b')));
      x = node(l.name, 'Add', [x, b]);
    } else if (l instanceof Activation) {
      const t = l.transform.name;
      if (t === 'Identity') continue;
      if (t === 'Softmax') {
        if (rank > 1) {
          const shape = `${l.name}/shape`;
          inits.push(int64Tensor(shape, [-1, ...l.inShape]));
          const flat = node(`${l.name}/flatten`, 'Flatten', [x], [intAttr('axis', 1)]);
          const sm = node(`${l.name}/softmax`, 'Softmax', [flat], [intAttr('axis', 1)]);
          x = node(l.name, 'Reshape', [sm, shape]);
        } else {
          x = node(l.name, 'Softmax', [x], [intAttr('axis', 1)]);
        }
        continue;
      }
      const op = ({ Rectlin: 'Relu', Logistic: 'Sigmoid', Tanh: 'Tanh' } as Record<string, string>)[t];
      if (!op) cannot(l, `has the transform '${t}', which has no ONNX operator here`);
      x = node(l.name, op, [x]);
    } else if (l instanceof Pooling) {
      const cfg = l.describe().config;
      const [R, S] = pair(l.fshape, 1), [sh, sw] = pair(cfg.strides, R), [ph, pw] = pair(cfg.padding, 0);
      // ONNX pooling needs padding smaller than the window; a Pooling layer pads by at most
      // half its window (src/autograd/functions/pool.ts refuses more when it is configured).
      const attrs = [intsAttr('kernel_shape', [R, S]), intsAttr('strides', [sh, sw]), intsAttr('pads', [ph, pw, ph, pw])];
      x = l.op === 'max' ? node(l.name, 'MaxPool', [x], attrs) : node(l.name, 'AveragePool', [x], [...attrs, intAttr('count_include_pad', 1)]);
    } else if (l instanceof Dropout) {
      const scale = dropoutInferenceScale(l.keep, l.mode);
      if (scale === 1) continue;
      const k = `${l.name}.scale`;
      inits.push(floatTensor(k, [], [scale]));
      x = node(l.name, 'Mul', [x, k]);
    } else {
      cannot(l, 'has no ONNX equivalent; the exporter writes Convolution, Bias, Activation (Rectlin, Logistic, Tanh, Softmax, Identity), Pooling, Linear and Dropout layers');
    }
  }
  // Name the graph's output 'output' (rename the last node's output, or add an Identity).
  const last = nodes[nodes.length - 1];
  if (last && last.output[0] === x) last.output[0] = 'output';
  else node('output', 'Identity', [x]);
  return { nodes, inits, output: 'output', outShape: [...model.outShape] };
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  };
}

/**
 * The ONNX model (ModelProto bytes) of an initialized model: opset 13, float32, input
 * 'input' [N, C, H, W] and output 'output'. Throws a TlError naming the layer when a layer
 * has no ONNX equivalent.
 */
export function onnxBytes(model: Model, opts: OnnxExportOptions = {}): Uint8Array {
  const g = buildGraph(model);
  const T = onnxModelProto();
  const metadata = {
    'tl_scratch.layers': JSON.stringify(model.layers.map((l) => ({ name: l.name, type: l.className }))),
    'tl_scratch.input_shape': JSON.stringify(model.inShape),
    ...opts.metadata,
  };
  const msg = T.fromObject({
    ir_version: ONNX_IR_VERSION,
    producer_name: 'tl-scratch',
    producer_version: '0.1.0',
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: opts.graphName ?? 'tl-scratch',
      node: g.nodes,
      initializer: g.inits,
      input: [valueInfo('input', ['N', ...model.inShape!])],
      output: [valueInfo(g.output, ['N', ...g.outShape])],
    },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return T.encode(msg).finish();
}
