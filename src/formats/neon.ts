// neon weight pickles (`.p`, `.pkl`, `.prm`, optionally gzipped): the unfused layout of
// VGG_D.p (Convolution, Bias, Activation entries; neon <= 2.2) and the fused
// `Convolution_bias` layout of neon >= 2.3 (docs/neon-notes.md#serialized-models-pickles). Weights
// come out in our layout: conv (C·R·S, K) -> [K, C, R, S], bias (K, 1) -> [K], linear (nout, nin)
// as is (neon's fc6 input order is already C·H·W; docs/neon-notes.md#weight-layouts).

import { TlError } from '../util/errors.js';
import { neonConvToKCRS, npToFloat32, numel } from './convert.js';
import { gunzipFile, isGzip, readHead, readWhole } from './io.js';
import { isTuple, loadPickle, NpArray, PyBytes, PyDict, pyNumber, pyText } from './pickle/index.js';
import { FORMAT_NAMES, type RawArrayInfo, type SourceLayer, type WeightArray, type WeightFile } from './types.js';

/** What VGG_D.p expects as input (docs/neon-notes.md#vgg_dp); the caller prints it. */
export const NEON_VGG_INPUT_NOTE =
  'VGG_D.p (ported from Caffe) expects BGR input: pixels 0..255 in B, G, R channel order with the per-channel ' +
  'mean subtracted (Caffe means B,G,R = 102.98, 115.95, 122.77 or 104, 117, 123; neon 2.x aeon BGRMeanSubtract ' +
  'uses 127, 119, 104), 224x224 crops; the first conv\'s input-channel axis is B, G, R.';

const MAX_WALK_DEPTH = 1000;

/** Read a neon pickle (gzip detected by its magic bytes). */
export async function readNeonWeights(path: string): Promise<WeightFile> {
  const head = readHead(path, 2, 'neon file');
  const gz = isGzip(head);
  const buf = gz ? await gunzipFile(path, 'neon file') : readWhole(path, 'neon file');
  return neonFromBuffer(buf, path, gz);
}

/** Parse neon weights from a pickle buffer the caller hands over (it may be modified in place). */
function neonFromBuffer(buf: Uint8Array, path: string, gzipped = false): WeightFile {
  if (buf.length === 0) throw new TlError(`neon file ${path}: empty file`);
  const root = loadPickle(buf, {
    file: path,
    inPlace: true,
    refusedGlobalHint: 'neon weight files hold only dicts, lists and numpy arrays.',
  });
  return neonFromObject(root, path, gzipped);
}

function get(d: unknown, key: string): unknown {
  return d instanceof PyDict ? d.get(key) : undefined;
}

function fail(path: string, msg: string): never {
  throw new TlError(`neon file ${path}: ${msg}`);
}

/** Turn an unpickled neon description into a WeightFile. */
function neonFromObject(root: unknown, path: string, gzipped = false): WeightFile {
  if (!(root instanceof PyDict)) {
    fail(path, `the pickle holds a ${root === null ? 'None' : Array.isArray(root) ? 'list' : typeof root}, not a neon model dict; is this a neon weight file?`);
  }
  const notes: string[] = [];
  const arrays = collectArrays(root, path);
  const version = pyText(root.get('neon_version'));
  const backend = pyText(get(root.get('backend'), 'type'));
  const py2 = detectPy2(root);
  const facts = [
    version ? `neon_version ${version}` : 'no neon_version',
    backend ? `backend ${backend}` : undefined,
    py2 ? 'written by Python 2' : undefined,
    gzipped ? 'gzip-compressed' : undefined,
  ].filter(Boolean);
  let layers: SourceLayer[];
  let layout: string;
  if (root.has('model')) {
    const leaves: PyDict[] = [];
    flattenLayers(root.get('model'), leaves, 0, path);
    layers = [];
    let fused = 0;
    let unfusedBias = 0;
    leaves.forEach((desc, i) => {
      const l = convertLayer(desc, i, path);
      if (!l) return;
      if (l.sourceType?.endsWith('Convolution_bias')) fused++;
      if (l.kind === 'bias' && i > 0 && (pyText(get(leaves[i - 1], 'type')) ?? '').endsWith('.Convolution')) unfusedBias++;
      layers.push(l);
    });
    layout =
      fused > 0
        ? 'fused Convolution_bias layout (neon >= 2.3)'
        : unfusedBias > 0
          ? 'unfused Convolution + Bias layout (neon <= 2.2, as VGG_D.p)'
          : 'no convolution layers';
  } else if (root.has('layer_params_states')) {
    layers = legacyLayers(root.get('layer_params_states'), path);
    layout = 'pre-1.2 layer_params_states layout: the file does not record layer types, so arrays are returned as stored';
  } else {
    const keys = [...root.keys()].map(String).slice(0, 10).join(', ');
    fail(path, `no 'model' key (keys: ${keys || 'none'}); this pickle is not a neon model file`);
  }
  if (!layers.some((l) => l.params.length)) fail(path, 'the model holds no weights (no layer has params)');
  notes.push(`neon pickle (${facts.join(', ')}); ${layout}.`);
  notes.push('Conv weights converted from neon (C·R·S, K) to [K, C, R, S]; biases (K, 1) to [K]; linear (nout, nin) kept; optimizer states ignored.');
  const firstConv = layers.find((l) => l.kind === 'conv');
  if (firstConv && firstConv.params[0]!.shape[1] === 3) notes.push(NEON_VGG_INPUT_NOTE);
  return { path, format: FORMAT_NAMES.neon, layers, notes, arrays };
}

function detectPy2(root: PyDict): boolean {
  const model = root.get('model');
  return get(model, 'type') instanceof PyBytes || root.get('neon_version') instanceof PyBytes;
}

/** Flatten containers (Sequential, Tree, ...) into their leaf layer descriptions, in order. */
function flattenLayers(desc: unknown, out: PyDict[], depth: number, path: string): void {
  if (depth > MAX_WALK_DEPTH) fail(path, 'layer containers nest too deeply');
  if (Array.isArray(desc)) {
    for (const d of desc) flattenLayers(d, out, depth + 1, path);
    return;
  }
  if (!(desc instanceof PyDict)) fail(path, `a layer description is a ${typeof desc}, expected a dict`);
  const config = desc.get('config');
  const children = get(config, 'layers');
  if (desc.get('container') === true || (Array.isArray(children) && !desc.has('params'))) {
    if (!Array.isArray(children)) fail(path, `container ${pyText(get(config, 'name')) ?? ''} has no layer list`);
    for (const c of children) flattenLayers(c, out, depth + 1, path);
    return;
  }
  out.push(desc);
}

function npParam(v: unknown, where: string, path: string): NpArray {
  if (!(v instanceof NpArray) || !v.dtype || !v.raw) fail(path, `${where} is not a numpy array`);
  return v;
}

function weight(name: string, a: NpArray, shape: number[], data: Float32Array): WeightArray {
  return { name, shape, dtype: a.dtype!.name, data };
}

/** Kernel (R, S, K) from a neon conv config `fshape`. */
function convShape(config: unknown, where: string, path: string): { R: number; S: number; K: number } {
  const f = get(config, 'fshape');
  const num = (v: unknown): number => {
    const n = pyNumber(v);
    if (n === undefined || !Number.isSafeInteger(n) || n <= 0) fail(path, `${where}: fshape entry ${String(v)} is not a positive integer`);
    return n;
  };
  if (Array.isArray(f)) {
    const v = f.map(num);
    if (v.length === 3) return { R: v[0]!, S: v[1]!, K: v[2]! };
    if (v.length === 4 && v[0] === 1) return { R: v[1]!, S: v[2]!, K: v[3]! };
    fail(path, `${where}: fshape (${v.join(', ')}) is not (R, S, K); 3-D convolutions are not supported`);
  }
  if (f instanceof PyDict) {
    if (f.has('T') && num(f.get('T')) !== 1) fail(path, `${where}: 3-D convolutions are not supported`);
    return { R: num(f.get('R')), S: num(f.get('S')), K: num(f.get('K')) };
  }
  fail(path, `${where}: the layer's config has no fshape, so C, R and S cannot be told apart in W`);
}

function convertLayer(desc: PyDict, index: number, path: string): SourceLayer | null {
  const type = pyText(desc.get('type')) ?? '';
  const short = type.split('.').pop() ?? '';
  const config = desc.get('config');
  const name = pyText(get(config, 'name')) ?? `${short || 'layer'}_${index}`;
  const params = desc.get('params');
  if (!(params instanceof PyDict) || params.size === 0) return null;
  const where = `layer ${index} '${name}' (${short || 'no type'})`;
  const W = params.get('W');
  if (short === 'Convolution' || short === 'Convolution_bias') {
    const a = npParam(W, `${where} W`, path);
    const { R, S, K } = convShape(config, where, path);
    if (a.shape.length !== 2 || a.shape[1] !== K || a.shape[0]! % (R * S) !== 0) {
      fail(path, `${where}: W has shape (${a.shape.join(', ')}), expected (C·${R}·${S}, ${K}) for fshape (${R}, ${S}, ${K})`);
    }
    const C = a.shape[0]! / (R * S);
    const out: WeightArray[] = [weight('W', a, [K, C, R, S], neonConvToKCRS(npToFloat32(a, `${path}: ${where} W`), C * R * S, K))];
    if (short === 'Convolution_bias') {
      const b = npParam(params.get('weight_bias'), `${where} weight_bias`, path);
      if (numel(b.shape, path) !== K) fail(path, `${where}: weight_bias has shape (${b.shape.join(', ')}), expected (${K}, 1)`);
      out.push(weight('b', b, [K], npToFloat32(b, `${path}: ${where} weight_bias`)));
    }
    return { name, kind: 'conv', params: out, sourceType: type };
  }
  if (short === 'Linear') {
    const a = npParam(W, `${where} W`, path);
    if (a.shape.length !== 2) fail(path, `${where}: W has shape (${a.shape.join(', ')}), expected (nout, nin)`);
    return { name, kind: 'linear', params: [weight('W', a, [...a.shape], npToFloat32(a, `${path}: ${where} W`))], sourceType: type };
  }
  if (short === 'Bias') {
    const a = npParam(W, `${where} W`, path);
    const n = numel(a.shape, path);
    if (a.shape.length > 2 || (a.shape.length === 2 && a.shape[1] !== 1)) fail(path, `${where}: W has shape (${a.shape.join(', ')}), expected (n, 1)`);
    return { name, kind: 'bias', params: [weight('b', a, [n], npToFloat32(a, `${path}: ${where} W`))], sourceType: type };
  }
  // Anything else with parameters (BatchNorm, Deconvolution, ...): as stored.
  const out: WeightArray[] = [];
  for (const [k, v] of params) {
    if (!(v instanceof NpArray)) continue;
    out.push(weight(String(k), v, [...v.shape], npToFloat32(v, `${path}: ${where} ${String(k)}`)));
  }
  return out.length ? { name, kind: 'other', params: out, sourceType: type } : null;
}

/** neon <= 1.1: {'layer_params_states': [{'params': {'W':..., 'name':...}, 'states': [...]}, ...]}. */
function legacyLayers(list: unknown, path: string): SourceLayer[] {
  if (!Array.isArray(list)) fail(path, 'layer_params_states is not a list');
  const layers: SourceLayer[] = [];
  list.forEach((entry, i) => {
    const params = get(entry, 'params');
    if (!(params instanceof PyDict)) return;
    const name = pyText(params.get('name')) ?? `layer_${i}`;
    const out: WeightArray[] = [];
    for (const [k, v] of params) {
      if (v instanceof NpArray) out.push(weight(String(k), v, [...v.shape], npToFloat32(v, `${path}: ${name} ${String(k)}`)));
    }
    if (out.length) layers.push({ name, kind: 'other', params: out });
  });
  return layers;
}

/** Every numpy array in the file, named by its path (layer descriptions by their layer name). */
function collectArrays(root: unknown, path: string): RawArrayInfo[] {
  const out: RawArrayInfo[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, at: string, depth: number): void => {
    if (depth > MAX_WALK_DEPTH) fail(path, 'the pickle nests too deeply');
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof NpArray) {
      out.push({ name: at || '(root)', shape: [...v.shape], dtype: v.dtype?.name ?? '?' });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((c, i) => walk(c, `${at}[${i}]`, depth + 1));
      return;
    }
    if (v instanceof PyDict) {
      let base = at;
      const lname = pyText(get(v.get('config'), 'name'));
      if (lname !== undefined && v.has('type')) base = lname;
      for (const [k, c] of v) {
        if (k === 'config' && base !== at) {
          walk(c, `${base}.config`, depth + 1);
          continue;
        }
        const key = typeof k === 'string' ? k : isTuple(k) ? `(${k.join(',')})` : String(k);
        walk(c, base ? `${base}.${key}` : key, depth + 1);
      }
    }
  };
  walk(root, '', 0);
  return out;
}
