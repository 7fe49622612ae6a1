// ONNX models (.onnx): the float initializers of the graph, read as weights. Files written
// by `tl-scratch export --format onnx` name them '<layer>.W' and '<bias layer>.b', so they
// import by name into the model they came from; others (e.g. torch.onnx.export of a
// torchvision VGG-16: 'features.0.weight', 'classifier.0.weight' as Gemm's [out, in]) are
// grouped like PyTorch state_dict keys. Only weights are read, not the graph.
import { onnxModelProto } from '../export/onnx-proto.js';
import { TlError } from '../util/errors.js';
import { groupDotted, type FlatTensor } from './group.js';
import { readWhole } from './io.js';
import { FORMAT_NAMES, type RawArrayInfo, type SourceLayer, type WeightFile } from './types.js';

/** By name (.onnx), or by the first bytes of a ModelProto: ir_version (field 1, varint) then producer_name (field 2). */
export function looksLikeOnnx(path: string, head: Uint8Array): boolean {
  return path.toLowerCase().endsWith('.onnx') || (head.length > 3 && head[0] === 0x08 && head[1]! < 0x80 && head[2] === 0x12);
}

interface TensorMsg { name?: string; dims?: (number | { toNumber(): number })[]; data_type?: number; raw_data?: Uint8Array; float_data?: number[] }

function floatsOf(t: TensorMsg, n: number, fail: (m: string) => never): Float32Array {
  if (t.raw_data && t.raw_data.length) {
    if (t.raw_data.length !== 4 * n) fail(`initializer '${t.name}' has ${t.raw_data.length} bytes of data for ${n} floats`);
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(t.raw_data);
    return out;
  }
  if (t.float_data && t.float_data.length === n) return Float32Array.from(t.float_data);
  fail(`initializer '${t.name}' holds no data (external data is not supported)`);
}

/** Read the weights (float initializers) of an ONNX model: by layer name for files tl-scratch exported, grouped like PyTorch state_dict keys otherwise. */
export async function readOnnxWeights(path: string): Promise<WeightFile> {
  const fail: (msg: string) => never = (msg) => {
    throw new TlError(`ONNX file ${path}: ${msg}`);
  };
  const bytes = readWhole(path, 'ONNX file');
  let model: { graph?: { initializer?: TensorMsg[] }; producer_name?: string };
  try {
    model = onnxModelProto().toObject(onnxModelProto().decode(bytes), { longs: Number }) as typeof model;
  } catch (e) {
    fail(`not a valid ONNX model (${(e as Error).message})`);
  }
  const inits = model.graph?.initializer ?? [];
  const arrays: RawArrayInfo[] = [];
  const flat: FlatTensor[] = [];
  for (const t of inits) {
    const shape = (t.dims ?? []).map((d) => (typeof d === 'number' ? d : d.toNumber()));
    arrays.push({ name: t.name ?? '', shape, dtype: t.data_type === 1 ? 'float32' : `onnx type ${t.data_type}` });
    if (t.data_type !== 1 || !t.name) continue; // shapes and other int tensors are not weights
    const n = shape.reduce((a, b) => a * b, 1);
    const data = floatsOf(t, n, fail);
    flat.push({ key: t.name, shape, dtype: 'float32', load: () => data });
  }
  const ours = model.producer_name === 'tl-scratch';
  let layers: SourceLayer[];
  if (ours) {
    // '<layer>.W' and '<bias layer>.b'; '<dropout>.scale' and '/shape' constants are not parameters.
    const byLayer = new Map<string, SourceLayer>();
    for (const t of flat) {
      const dot = t.key.lastIndexOf('.');
      const [layer, param] = [t.key.slice(0, dot), t.key.slice(dot + 1)];
      if (dot < 0 || (param !== 'W' && param !== 'b')) continue;
      let l = byLayer.get(layer);
      if (!l) byLayer.set(layer, (l = { name: layer, kind: 'other', params: [] }));
      // A bias broadcast as [n, 1, 1] is stored in the model as [n].
      const shape = param === 'b' ? [t.shape.reduce((a, b) => a * b, 1)] : [...t.shape];
      l.params.push({ name: param, shape, dtype: 'float32', data: t.load() });
      l.kind = param === 'W' ? (shape.length === 4 ? 'conv' : 'linear') : l.kind === 'other' ? 'bias' : l.kind;
    }
    layers = [...byLayer.values()];
  } else {
    layers = groupDotted(flat);
  }
  if (!layers.length) fail('no float initializers (weights) in the graph');
  const notes = [`ONNX model by ${model.producer_name || 'an unknown producer'} (${flat.length} float initializers); only the weights are read, not the graph.`];
  return { path, format: FORMAT_NAMES.onnx, layers, notes, arrays };
}
