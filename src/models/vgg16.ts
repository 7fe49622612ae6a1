// VGG-16 (configuration D) as the lab builds it (lab.md, models.py): five conv blocks of
// 3×3/stride 1/pad 1 convs, each written as Convolution 'conv{b}_{i}' + Bias
// 'conv{b}_{i}_bias' + Rectlin, every block closed by 2×2/2 max pooling, then the head.
import { Rectlin, Softmax } from '../layers/activation.js';
import { Affine, Conv } from '../layers/compound.js';
import { Dropout } from '../layers/dropout.js';
import type { DropoutMode } from '../autograd/ops/dropout.js';
import { Constant, GlorotUniform, Xavier } from '../layers/initializers.js';
import type { Layer } from '../layers/layer.js';
import { Pooling } from '../layers/pooling.js';
import { UsageError } from '../util/errors.js';
import { GeneralizedCost, CrossEntropyBinary } from './cost.js';
import { Model } from './model.js';

/** Options of the VGG-16 builders: classes, width multiplier, dense width, dropout. */
export interface Vgg16Options {
  nclass?: number;
  /** Scales every conv width: 64·w, 128·w, 256·w, 512·w (rounded, at least 1). */
  widthMult?: number;
  /** Width of the two hidden dense layers. */
  fcSize?: number;
  /** Dropout keep fraction after fc6 and fc7. */
  dropoutKeep?: number;
  dropoutMode?: DropoutMode;
}

/** The conv widths per block and the number of convs in each. */
export const VGG16_BLOCKS: readonly (readonly [number, number])[] = [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]];

function scaledWidth(width: number, widthMult: number): number {
  return Math.max(1, Math.round(width * widthMult));
}

function checkOptions(o: Vgg16Options): Required<Vgg16Options> {
  const r = { nclass: 1000, widthMult: 1, fcSize: 4096, dropoutKeep: 0.5, dropoutMode: 'neon' as DropoutMode, ...o };
  if (!Number.isInteger(r.nclass) || r.nclass < 1) throw new UsageError(`nclass must be a positive integer, got ${r.nclass}`);
  if (!(r.widthMult > 0)) throw new UsageError(`width multiplier must be > 0, got ${r.widthMult}`);
  if (!Number.isInteger(r.fcSize) || r.fcSize < 1) throw new UsageError(`fc size must be a positive integer, got ${r.fcSize}`);
  if (!(r.dropoutKeep > 0 && r.dropoutKeep <= 1)) throw new UsageError(`dropout keep must be in (0, 1], got ${r.dropoutKeep}`);
  return r;
}

/** The 13 conv layers (+ biases, activations, pools), named as in VGG_D.p. */
export function vgg16Features(widthMult = 1): Layer[] {
  const layers: Layer[] = [];
  VGG16_BLOCKS.forEach(([width, n], b) => {
    for (let i = 1; i <= n; i++) {
      layers.push(...Conv([3, 3, scaledWidth(width, widthMult)], {
        init: new Xavier(true), bias: new Constant(0), activation: Rectlin(), strides: 1, padding: 1, name: `conv${b + 1}_${i}`,
      }));
    }
    layers.push(new Pooling(2, { strides: 2, name: `pool${b + 1}` }));
  });
  return layers;
}

function head(names: [string, string, string], o: Required<Vgg16Options>): Layer[] {
  const dense = (nout: number, name: string, last: boolean) =>
    Affine(nout, { init: new GlorotUniform(), bias: new Constant(0), activation: last ? Softmax() : Rectlin(), name });
  return [
    ...dense(o.fcSize, names[0], false),
    new Dropout({ keep: o.dropoutKeep, mode: o.dropoutMode, name: `${names[0]}_dropout` }),
    ...dense(o.fcSize, names[1], false),
    new Dropout({ keep: o.dropoutKeep, mode: o.dropoutMode, name: `${names[1]}_dropout` }),
    ...dense(o.nclass, names[2], true),
  ];
}

/** The lab's transfer model: VGG-16 features + new head fc6_new, fc7_new, cls_imdb_wiki_face. */
export function generateVgg16TransferModel(opts: Vgg16Options = {}): Model {
  const o = checkOptions({ nclass: 2, ...opts });
  const m = new Model([...vgg16Features(o.widthMult), ...head(['fc6_new', 'fc7_new', 'cls_imdb_wiki_face'], o)]);
  m.cost = new GeneralizedCost(CrossEntropyBinary());
  return m;
}

/** The original VGG-16 with head fc6, fc7, fc8 (for pretraining a source model). */
export function generateVgg16(opts: Vgg16Options = {}): Model {
  const o = checkOptions(opts);
  const m = new Model([...vgg16Features(o.widthMult), ...head(['fc6', 'fc7', 'fc8'], o)]);
  m.cost = new GeneralizedCost(CrossEntropyBinary());
  return m;
}
