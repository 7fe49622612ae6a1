// How pixels are turned into network inputs: the three conventions that pretrained VGG-16
// weights were trained with. Every input row starts as 8-bit pixels (0..255), channel-major
// (C, H, W), in the data's channel order (train.h5's `input.attrs.channel_order`, written
// by `prepare`; files without it are taken as RGB for 3 channels, gray for 1).
//
//   neon         0..255 minus the data's own mean (train.h5's `mean`: per channel or a mean
//                image), channels as stored. What the lab's neon scripts do with the
//                HDF5Iterator (neon/data/hdf5iterator.py), and what tl-scratch always did; bit-identical.
//   caffe        0..255, channels reordered to B, G, R, minus the fixed ImageNet mean
//                B, G, R = 103.939, 116.779, 123.68. Keras' VGG16 weights (ported from
//                Caffe) expect it: keras.applications.imagenet_utils.preprocess_input with
//                mode='caffe' ("will convert the images from RGB to BGR, then will
//                zero-center each color channel with respect to the ImageNet dataset,
//                without scaling"), and VGG_D.p, also a Caffe port (see docs/neon-notes.md).
//   torchvision  RGB, scaled to [0, 1] (x / 255), then (x − mean) / std per channel with
//                mean = 0.485, 0.456, 0.406 and std = 0.229, 0.224, 0.225, the ImageNet
//                statistics of torchvision's pretrained models (torchvision.transforms
//                .Normalize as in the torchvision.models docs, and VGG16_Weights.IMAGENET1K_V1
//                .transforms()).
//
// One-channel (gray) data has no channel order: caffe subtracts the mean of the three
// channel means (114.799), torchvision uses the mean of the means and of the stds (0.449,
// 0.226). Such data cannot use a 3-channel first conv anyway; the numbers only keep the
// scale right.
import { TlError, UsageError } from '../util/errors.js';
import type { ChannelOrder } from './image.js';
import { subtractMean, WrappedIterator, type Batch, type DataIterator } from './iterator.js';

const PREPROCESS_NAMES = ['neon', 'caffe', 'torchvision'] as const;
export type PreprocessName = (typeof PREPROCESS_NAMES)[number];

/** Caffe's ImageNet mean in B, G, R order (keras imagenet_utils, mode 'caffe'). */
const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68] as const;
/** torchvision's ImageNet mean and std in R, G, B order, for inputs scaled to [0, 1]. */
const TORCHVISION_RGB_MEAN = [0.485, 0.456, 0.406] as const;
const TORCHVISION_RGB_STD = [0.229, 0.224, 0.225] as const;

export const PREPROCESS_DESCRIPTIONS: Record<PreprocessName, string> = {
  neon: 'pixels 0..255 minus the training data\'s own mean, channels as stored (neon\'s HDF5Iterator)',
  caffe: 'pixels 0..255 in B, G, R order minus the ImageNet mean B, G, R = 103.939, 116.779, 123.68 (Caffe; Keras preprocess_input mode \'caffe\')',
  torchvision: 'R, G, B scaled to [0, 1], then (x - mean) / std with mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225 (torchvision ImageNet)',
};

/** `--preprocess NAME` checked: a UsageError naming the choices otherwise. */
export function parsePreprocess(v: string): PreprocessName {
  if ((PREPROCESS_NAMES as readonly string[]).includes(v)) return v as PreprocessName;
  throw new UsageError(`--preprocess '${v}' is not known; choose one of ${PREPROCESS_NAMES.join(', ')} (neon: the data's mean, caffe: Keras/Caffe weights, torchvision: PyTorch weights)`);
}

/** Everything needed to turn raw pixel rows into inputs. */
export interface PreprocessSpec {
  name: PreprocessName;
  /** Channel order of the raw rows. */
  channels: ChannelOrder;
  /** The data's own mean (neon only): C·H·W or C values, 0..255. */
  mean: Float32Array | null;
}

/** The channel order of rows with C channels when the file does not say: RGB (prepare's default) or gray. */
export function assumedChannels(C: number): ChannelOrder {
  return C === 1 ? 'gray' : 'rgb';
}

/**
 * Per output channel: which input channel it takes, what is subtracted and what it is
 * divided by (after the scale). Rows keep their number of channels.
 */
function channelPlan(spec: PreprocessSpec, C: number, where: string): { src: number[]; scale: number; sub: number[]; div: number[] } {
  if (C !== 1 && C !== 3) throw new TlError(`${where}: ${spec.name} preprocessing needs 1 or 3 channels, the data has ${C}; use --preprocess neon`);
  if (C === 1) {
    if (spec.name === 'caffe') return { src: [0], scale: 1, sub: [avg(CAFFE_BGR_MEAN)], div: [1] };
    return { src: [0], scale: 1 / 255, sub: [avg(TORCHVISION_RGB_MEAN)], div: [avg(TORCHVISION_RGB_STD)] };
  }
  const order = spec.channels === 'gray' ? 'rgb' : spec.channels; // 3 equal channels: the order does not matter
  if (spec.name === 'caffe') return { src: order === 'bgr' ? [0, 1, 2] : [2, 1, 0], scale: 1, sub: [...CAFFE_BGR_MEAN], div: [1, 1, 1] };
  return { src: order === 'rgb' ? [0, 1, 2] : [2, 1, 0], scale: 1 / 255, sub: [...TORCHVISION_RGB_MEAN], div: [...TORCHVISION_RGB_STD] };
}

function avg(a: readonly number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

/**
 * Inputs from `n` raw rows (0..255, channel-major, `spec.channels` order) of shape
 * `lshape`. neon subtracts the data's mean in place (the iterators' own code, so the result
 * is bit-identical to them); caffe and torchvision return a new array.
 */
export function preprocessRows(x: Float32Array, n: number, lshape: readonly [number, number, number], spec: PreprocessSpec, where = 'data'): Float32Array {
  const [C, H, W] = lshape;
  if (spec.name === 'neon') {
    if (spec.mean) subtractMean(x, spec.mean, n, lshape);
    return x;
  }
  const p = channelPlan(spec, C, where);
  const HW = H * W;
  const F = C * HW;
  const out = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < C; c++) {
      const si = r * F + p.src[c]! * HW;
      const oi = r * F + c * HW;
      const sub = p.sub[c]!, div = p.div[c]!, scale = p.scale;
      for (let i = 0; i < HW; i++) out[oi + i] = (x[si + i]! * scale - sub) / div;
    }
  }
  return out;
}

/**
 * An iterator of raw pixel rows (mean not subtracted) whose batches come out preprocessed.
 * Everything else (batching, epochs, reset) is the inner iterator's.
 */
export class PreprocessedIterator extends WrappedIterator {
  constructor(inner: DataIterator, readonly spec: PreprocessSpec, private readonly where = 'data') {
    super(inner);
    // fail early on a channel count the convention cannot take
    if (spec.name !== 'neon') channelPlan(spec, inner.lshape[0], where);
  }
  *batches(): Generator<Batch, void, undefined> {
    for (const b of this.inner.batches()) {
      yield { ...b, x: preprocessRows(b.x, b.xShape[0], this.lshape, this.spec, this.where) };
    }
  }
}
