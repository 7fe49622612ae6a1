// safetensors export. For a VGG-16 (the lab's transfer model or the original, any width)
// the tensors get torchvision's names and layouts, so that PyTorch loads the file into a
// torchvision-layout VGG-16 with load_state_dict(strict=True):
//   conv k (conv1_1 … conv5_3)       features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.weight [K, C, 3, 3], .bias [K]
//   the three dense layers            classifier.{0,3,6}.weight [out, in], .bias [out]
// Our layouts already are PyTorch's (conv [K, C, R, S], dense [out, in], the flatten in
// C·H·W order), so values are copied as they are, with one exception: dropout. neon's
// dropout keeps x at training and scales by keep at inference (y = keep·x); PyTorch's
// nn.Dropout scales by 1/keep at training and is the identity at inference. Multiplying the
// weights of the dense layer after each dropout by keep (classifier.3 and classifier.6)
// makes the torchvision module compute exactly what ours does, in eval mode and, in
// expectation and mask for mask, in train mode: W·(mask⊙x) = (keep·W)·(mask⊙x/keep).
//
// Other models keep tl-scratch's names: '<layer>.weight', and '<layer>.bias' for the Bias
// layer right after it (or '<bias layer>.bias' on its own); values unscaled.
//
// The header's __metadata__ (strings only, as the format requires) records how to undo
// this: 'tl_scratch.names' maps each tensor to its [layer, parameter] here and
// 'tl_scratch.scales' the factors applied, so that src/formats/safetensors.ts reads the
// file back into the same model bit for bit (export → --model_file gives identical outputs).
import { Activation } from '../layers/activation.js';
import { Bias } from '../layers/bias.js';
import { Convolution } from '../layers/convolution.js';
import { Dropout } from '../layers/dropout.js';
import type { Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import { Pooling } from '../layers/pooling.js';
import { dropoutInferenceScale } from '../autograd/ops/dropout.js';
import type { Model } from '../models/model.js';
import { VGG16_BLOCKS } from '../models/vgg16.js';
import { TlError } from '../util/errors.js';

/** torchvision's indices of the 13 convs in vgg16().features (ReLU and MaxPool take the others). */
export const TORCHVISION_VGG16_CONV_INDICES: readonly number[] = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
/** torchvision's indices of the three dense layers in vgg16().classifier. */
const TORCHVISION_VGG16_DENSE_INDICES: readonly number[] = [0, 3, 6];

/** One tensor of the file: its name there, where it comes from here, and the factor applied. */
export interface ExportedTensor {
  key: string;
  layer: string;
  param: string;
  shape: number[];
  /** File value = model value × scale (1 except the dense layers after neon dropout). */
  scale: number;
  data: Float32Array;
}

const pairOf = (p: unknown, dflt: number): [number, number] =>
  p === undefined ? [dflt, dflt] : typeof p === 'number' ? [p, p] : [(p as number[])[0]!, (p as number[])[1]!];

function isRelu(l: Layer | undefined, transform = 'Rectlin'): boolean {
  return l instanceof Activation && l.transform.name === transform;
}

/**
 * The VGG-16 structure, found layer by layer: 13 convs 3×3/1/1 each + Bias + Rectlin in
 * blocks of 2, 2, 3, 3, 3, each block closed by 2×2/2 max pooling; then Linear + Bias +
 * Rectlin, Dropout, Linear + Bias + Rectlin, Dropout, Linear + Bias + Softmax. Returns the
 * convs, the dense layers and the dropouts, or null when the model is something else.
 */
export function matchVgg16(model: Model): { convs: Convolution[]; dense: Linear[]; dropouts: Dropout[] } | null {
  const L = model.layers;
  let i = 0;
  const convs: Convolution[] = [];
  for (const [, n] of VGG16_BLOCKS) {
    for (let k = 0; k < n; k++) {
      const c = L[i];
      if (!(c instanceof Convolution) || c.R !== 3 || c.S !== 3) return null;
      const cfg = c.describe().config;
      if (pairOf(cfg.strides, 1).some((v) => v !== 1) || pairOf(cfg.padding, 0).some((v) => v !== 1) || pairOf(cfg.dilation, 1).some((v) => v !== 1)) return null;
      if (!(L[i + 1] instanceof Bias) || !isRelu(L[i + 2])) return null;
      convs.push(c);
      i += 3;
    }
    const p = L[i];
    if (!(p instanceof Pooling) || p.op !== 'max') return null;
    const cfg = p.describe().config;
    if (pairOf(p.fshape, 0).some((v) => v !== 2) || pairOf(cfg.strides, 2).some((v) => v !== 2) || pairOf(cfg.padding, 0).some((v) => v !== 0)) return null;
    i++;
  }
  const dense: Linear[] = [];
  const dropouts: Dropout[] = [];
  for (let k = 0; k < 3; k++) {
    const lin = L[i];
    if (!(lin instanceof Linear) || !(L[i + 1] instanceof Bias) || !isRelu(L[i + 2], k === 2 ? 'Softmax' : 'Rectlin')) return null;
    dense.push(lin);
    i += 3;
    if (k < 2) {
      const d = L[i];
      if (!(d instanceof Dropout)) return null;
      dropouts.push(d);
      i++;
    }
  }
  return i === L.length ? { convs, dense, dropouts } : null;
}

function paramValues(l: Layer, name: string): { shape: number[]; data: Float32Array } {
  const p = l.params().find((q) => q.name === name);
  if (!p) throw new TlError(`cannot export: layer '${l.name}' has no parameter '${name}' (is the model initialized?)`);
  return { shape: [...p.value.shape], data: Float32Array.from(p.value.toHost()) };
}

function tensorOf(key: string, l: Layer, param: string, scale = 1): ExportedTensor {
  const { shape, data } = paramValues(l, param);
  if (scale !== 1) for (let j = 0; j < data.length; j++) data[j] = data[j]! * scale;
  return { key, layer: l.name, param, shape, scale, data };
}

/**
 * The tensors a safetensors export writes, in file order: torchvision's names for a
 * VGG-16 ({@link matchVgg16}), tl-scratch's layer names otherwise.
 */
function exportedTensors(model: Model): { layout: 'torchvision-vgg16' | 'tl-scratch'; tensors: ExportedTensor[] } {
  if (!model.inShape) throw new TlError('cannot export: the model is not initialized; call model.initialize([C, H, W]) first');
  const L = model.layers;
  const biasAfter = (l: Layer): Bias => L[L.indexOf(l) + 1] as Bias;
  const vgg = matchVgg16(model);
  if (vgg) {
    const tensors: ExportedTensor[] = [];
    vgg.convs.forEach((c, k) => {
      const idx = TORCHVISION_VGG16_CONV_INDICES[k]!;
      tensors.push(tensorOf(`features.${idx}.weight`, c, 'W'), tensorOf(`features.${idx}.bias`, biasAfter(c), 'b'));
    });
    vgg.dense.forEach((d, k) => {
      const idx = TORCHVISION_VGG16_DENSE_INDICES[k]!;
      const drop = k > 0 ? vgg.dropouts[k - 1]! : null;
      const scale = drop ? dropoutInferenceScale(drop.keep, drop.mode) : 1;
      tensors.push(tensorOf(`classifier.${idx}.weight`, d, 'W', scale), tensorOf(`classifier.${idx}.bias`, biasAfter(d), 'b'));
    });
    return { layout: 'torchvision-vgg16', tensors };
  }
  const tensors: ExportedTensor[] = [];
  L.forEach((l, i) => {
    const params = l.params();
    if (!params.length) return;
    if (l instanceof Bias) {
      const prev = L[i - 1];
      if (prev instanceof Convolution || prev instanceof Linear) return; // written with prev
      tensors.push(tensorOf(`${l.name}.bias`, l, 'b'));
      return;
    }
    for (const p of params) tensors.push(tensorOf(`${l.name}.${p.name === 'W' ? 'weight' : p.name}`, l, p.name));
    const next = L[i + 1];
    if ((l instanceof Convolution || l instanceof Linear) && next instanceof Bias) tensors.push(tensorOf(`${l.name}.bias`, next, 'b'));
  });
  return { layout: 'tl-scratch', tensors };
}

/**
 * The safetensors file of an initialized model, as bytes: an 8-byte little-endian header
 * length, the JSON header (padded with spaces to a multiple of 8 bytes), then the float32
 * data of every tensor in order.
 */
export function safetensorsBytes(model: Model): Uint8Array {
  const { layout, tensors } = exportedTensors(model);
  const header: Record<string, unknown> = {};
  const scales: Record<string, number> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.key] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
    if (t.scale !== 1) scales[t.key] = t.scale;
  }
  header.__metadata__ = {
    format: 'pt',
    'tl_scratch.layout': layout,
    'tl_scratch.names': JSON.stringify(Object.fromEntries(tensors.map((t) => [t.key, [t.layer, t.param]]))),
    'tl_scratch.scales': JSON.stringify(scales),
    'tl_scratch.input_shape': JSON.stringify(model.inShape),
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
