// Keras HDF5 weight files: the layout of vgg16_weights_tf_dim_ordering_tf_kernels*.h5
// (one group per layer at the root, attribute `layer_names` on the root and `weight_names`
// on each group, datasets such as `block1_conv1_W_1:0` inside the group) and the Keras 2
// layout (`<layer>/<layer>/kernel:0`, under `model_weights/` when written by model.save()).
//
// Conversion to our layout: conv kernels HWIO (R, S, C, K) -> [K, C, R, S]; Dense kernels
// (in, out) -> (out, in); the first Dense after the convolutions (fc1, fed by a
// channels-last Flatten) also has its input rows permuted from (H, W, C) order to ours
// (C, H, W) (docs/neon-notes.md#weight-layouts).

import { TlError } from '../util/errors.js';
import { hwioToKCRS, numel } from './convert.js';
import { damagedH5, openH5, type H5Dataset, type H5Group } from './h5.js';
import { halfToFloat } from './pickle/index.js';
import { FORMAT_NAMES, type RawArrayInfo, type ReadOptions, type SourceLayer, type WeightArray, type WeightFile } from './types.js';

/** Elements of a 2-D kernel read per slice, so reading never holds a second copy of a big kernel. */
export const KERAS_LIMITS = { sliceElements: 1 << 22 };

interface Meta {
  type: number;
  size: number;
  signed?: boolean;
  littleEndian?: boolean;
}

function isGroup(e: unknown): e is H5Group {
  return typeof e === 'object' && e !== null && (e as { type?: string }).type === 'Group';
}
function isDataset(e: unknown): e is H5Dataset {
  return typeof e === 'object' && e !== null && (e as { type?: string }).type === 'Dataset';
}

function dtypeName(m: Meta): string {
  if (m.type === 1) return `float${m.size * 8}`;
  if (m.type === 0) return `${m.signed ? 'int' : 'uint'}${m.size * 8}`;
  return `hdf5 type ${m.type}`;
}

/**
 * A string-list attribute, including Keras's chunked form (`name0`, `name1`, ...).
 *
 * Keras assigns a Python list to the attribute, and for a layer without weights (InputLayer,
 * pooling, Flatten, Dropout) that list is empty, which h5py stores as np.asarray([]): an
 * empty float64 array, not an empty string array. That is an empty list of names; a numeric
 * array with elements is not a list of names at all. `owner` names the group, for messages.
 */
function stringListAttr(obj: H5Group, name: string, owner: string, fail: (msg: string) => never): string[] | undefined {
  const attrs = obj.attrs;
  const conv = (v: unknown): string[] => {
    if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array)) {
      const n = (v as unknown as ArrayLike<unknown>).length ?? 0;
      if (n === 0) return [];
      fail(`attribute '${name}' of ${owner} holds ${n} numbers, not names (Keras writes layer and weight names as strings)`);
    }
    const list = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
    return list.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)).replace(/\0+$/, ''));
  };
  if (name in attrs) return conv(attrs[name]!.value);
  if (`${name}0` in attrs) {
    const out: string[] = [];
    for (let i = 0; `${name}${i}` in attrs; i++) out.push(...conv(attrs[`${name}${i}`]!.value));
    return out;
  }
  return undefined;
}

function textAttr(obj: H5Group, name: string): string | undefined {
  if (!(name in obj.attrs)) return undefined;
  const v = obj.attrs[name]!.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return undefined;
}

/** Convert what h5wasm returns for a float/int dataset to float32 (a view when it already is). */
function toF32(v: unknown, m: Meta, where: string): Float32Array {
  if (v instanceof Float32Array) return v;
  if (m.type === 1 && m.size === 2 && v instanceof Uint16Array) {
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = halfToFloat(v[i]!);
    return out;
  }
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Number(v[i]!);
    return out;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Float32Array.from(v as unknown as ArrayLike<number>);
  if (typeof v === 'number') return Float32Array.of(v);
  throw new TlError(`${where}: dataset is not numeric (${dtypeName(m)})`);
}

interface Weight {
  wname: string;
  ds: H5Dataset;
  shape: number[];
  meta: Meta;
}

function readAll(w: Weight, where: string): Float32Array {
  return toF32(w.ds.value, w.meta, where);
}

/**
 * A Dense kernel (nin, nout) as (nout, nin), optionally with input row i moved to rowMap(i),
 * read a slice of rows at a time.
 */
function readDense(w: Weight, where: string, rowMap?: (i: number) => number): Float32Array {
  const [nin, nout] = w.shape as [number, number];
  const out = new Float32Array(numel([nin, nout], where));
  const step = Math.max(1, Math.floor(KERAS_LIMITS.sliceElements / Math.max(1, nout)));
  const B = 32;
  for (let i0 = 0; i0 < nin; i0 += step) {
    const i1 = Math.min(nin, i0 + step);
    const chunk = toF32(w.ds.slice([[i0, i1], []]), w.meta, where);
    if (chunk.length !== (i1 - i0) * nout) throw new TlError(`${where}: read ${chunk.length} values for rows ${i0}..${i1}, expected ${(i1 - i0) * nout}`);
    // a blocked transpose of the (rows, nout) chunk into columns i0..i1 of (nout, nin)
    for (let r0 = i0; r0 < i1; r0 += B) {
      const r1 = Math.min(i1, r0 + B);
      for (let o0 = 0; o0 < nout; o0 += B) {
        const o1 = Math.min(nout, o0 + B);
        for (let r = r0; r < r1; r++) {
          const base = (r - i0) * nout;
          for (let o = o0; o < o1; o++) out[o * nin + r] = chunk[base + o]!;
        }
      }
    }
  }
  if (rowMap) {
    // then move the inputs within each output row: column i goes to rowMap(i)
    const target = new Int32Array(nin);
    for (let i = 0; i < nin; i++) target[i] = rowMap(i);
    const tmp = new Float32Array(nin);
    for (let o = 0; o < nout; o++) {
      const row = out.subarray(o * nin, (o + 1) * nin);
      tmp.set(row);
      for (let i = 0; i < nin; i++) row[target[i]!] = tmp[i]!;
    }
  }
  return out;
}

function baseName(wname: string): string {
  return (wname.split('/').pop() ?? wname).replace(/:\d+$/, '');
}
function looksLikeKernel(wname: string): boolean {
  const b = baseName(wname);
  return /kernel|(^|_)W(_\d+)?$/.test(b);
}
function looksLikeBias(wname: string): boolean {
  const b = baseName(wname);
  return /bias|(^|_)b(_\d+)?$/.test(b);
}

/** Read a Keras HDF5 weight file (a saved model or save_weights), converting kernels to tl-scratch's layouts. */
export async function readKerasWeights(path: string, options: ReadOptions = {}): Promise<WeightFile> {
  const file = await openH5(path, 'r', 'Keras weight file');
  try {
    return damagedH5('Keras weight file', path, () => readOpen(file as unknown as H5Group, path, options));
  } finally {
    file.close();
  }
}

function readOpen(file: H5Group, path: string, options: ReadOptions): WeightFile {
  const fail: (msg: string) => never = (msg) => {
    throw new TlError(`Keras weight file ${path}: ${msg}`);
  };
  let root: H5Group = file;
  let layerNames = stringListAttr(file, 'layer_names', 'the root group', fail);
  if (!layerNames) {
    const mw = file.get('model_weights');
    if (isGroup(mw)) {
      root = mw;
      layerNames = stringListAttr(mw, 'layer_names', '/model_weights', fail);
    }
  }
  if (!layerNames) {
    fail(
      "no 'layer_names' attribute at / or /model_weights, so this HDF5 file holds no Keras weights " +
        '(tl-scratch reads files written by Keras 1/2 model.save_weights()/model.save(), not Keras 3 .weights.h5, and its own checkpoints)',
    );
  }
  const backend = textAttr(root, 'backend') ?? textAttr(file, 'backend');
  const version = textAttr(root, 'keras_version') ?? textAttr(file, 'keras_version');
  if (backend === 'theano') {
    fail("written with the Theano backend (flipped kernels in 'th' order); use the tf_dim_ordering_tf_kernels file instead");
  }
  const arrays: RawArrayInfo[] = [];
  const layers: SourceLayer[] = [];
  const notes: string[] = [];
  let lastConvK: number | undefined;
  let flattenPending = false;
  for (const lname of layerNames) {
    const g = root.get(lname);
    if (!isGroup(g)) fail(`layer '${lname}' is listed in layer_names but has no group`);
    const wnames = stringListAttr(g, 'weight_names', `layer '${lname}'`, fail) ?? [];
    const weights: Weight[] = wnames.map((wn) => {
      const ds = g.get(wn);
      if (!isDataset(ds)) fail(`weight '${wn}' of layer '${lname}' is listed in weight_names but missing`);
      const meta = ds.metadata as Meta;
      const shape = ds.shape ?? [];
      arrays.push({ name: `${lname}/${wn}`, shape: [...shape], dtype: dtypeName(meta) });
      if (meta.type !== 0 && meta.type !== 1) fail(`weight '${lname}/${wn}' is not numeric (${dtypeName(meta)})`);
      return { wname: wn, ds, shape, meta };
    });
    if (!weights.length) continue;
    const where = `Keras weight file ${path}: layer '${lname}'`;
    let kernel = weights.find((w) => (w.shape.length === 4 || w.shape.length === 2) && looksLikeKernel(w.wname));
    kernel ??= weights.length <= 2 && (weights[0]!.shape.length === 4 || weights[0]!.shape.length === 2) ? weights[0] : undefined;
    const rest = weights.filter((w) => w !== kernel);
    const bias = rest.length === 1 && rest[0]!.shape.length === 1 && (looksLikeBias(rest[0]!.wname) || weights.length === 2) ? rest[0] : undefined;
    if (!kernel || rest.length > (bias ? 1 : 0)) {
      // BatchNormalization and the like: arrays as stored.
      layers.push({
        name: lname,
        kind: 'other',
        params: weights.map((w) => ({ name: baseName(w.wname), shape: [...w.shape], dtype: dtypeName(w.meta), data: readAll(w, where) })),
      });
      continue;
    }
    const params: WeightArray[] = [];
    let kind: 'conv' | 'linear';
    if (kernel.shape.length === 4) {
      const [R, S, C, K] = kernel.shape as [number, number, number, number];
      params.push({ name: 'W', shape: [K, C, R, S], dtype: dtypeName(kernel.meta), data: hwioToKCRS(readAll(kernel, where), R, S, C, K) });
      kind = 'conv';
      lastConvK = K;
      flattenPending = true;
    } else {
      const [nin, nout] = kernel.shape as [number, number];
      let rowMap: ((i: number) => number) | undefined;
      if (flattenPending && lastConvK !== undefined) {
        flattenPending = false;
        let H: number;
        let W: number;
        let C: number;
        if (options.kerasFlattenShape) {
          [H, W, C] = options.kerasFlattenShape;
          if (H * W * C !== nin) fail(`layer '${lname}' has ${nin} inputs but kerasFlattenShape (${H}, ${W}, ${C}) gives ${H * W * C}`);
        } else {
          C = lastConvK;
          const hw = nin / C;
          H = W = Math.round(Math.sqrt(hw));
          if (!Number.isInteger(hw) || H * W !== hw) {
            fail(
              `cannot infer the map that Flatten feeds into '${lname}': ${nin} inputs is not C·H·H with C = ${C} ` +
                '(the last conv\'s channels) and square maps; pass kerasFlattenShape [H, W, C]',
            );
          }
        }
        if (H * W > 1) {
          const HW = H * W;
          // Keras input index i = (h*W + w)*C + c  ->  ours j = c*H*W + h*W + w
          rowMap = (i) => (i % C) * HW + Math.floor(i / C);
          notes.push(
            `'${lname}': input rows permuted from Keras channels-last Flatten order (H, W, C) = (${H}, ${W}, ${C}) to (C, H, W).`,
          );
        }
      }
      params.push({ name: 'W', shape: [nout, nin], dtype: dtypeName(kernel.meta), data: readDense(kernel, where, rowMap) });
      kind = 'linear';
    }
    if (bias) params.push({ name: 'b', shape: [bias.shape[0]!], dtype: dtypeName(bias.meta), data: readAll(bias, where) });
    layers.push({ name: lname, kind, params });
  }
  if (!layers.length) fail('no layer holds weights (every weight_names list is empty)');
  notes.unshift(
    `Keras HDF5 weights (${[version ? `keras_version ${version}` : undefined, backend ? `backend ${backend}` : undefined, root !== file ? 'model.save() layout' : 'weights-only layout']
      .filter(Boolean)
      .join(', ')}); conv kernels converted from HWIO to [K, C, R, S], Dense kernels from (in, out) to (out, in).`,
  );
  return { path, format: FORMAT_NAMES.keras, layers, notes, arrays };
}
