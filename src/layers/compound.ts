// neon's compound builders: Conv = Convolution + Bias + Activation, Affine = Linear + Bias +
// Activation. The bias layer is named '<name>_bias', as in the lab's VGG_D.p.
import type { Pair } from '../kernels/geometry.js';
import { Activation, type Transform } from './activation.js';
import { Bias } from './bias.js';
import { Convolution } from './convolution.js';
import type { Initializer } from './initializers.js';
import type { Layer } from './layer.js';
import { Linear } from './linear.js';

/** Options of {@link Conv} and {@link Affine}: weight and bias initializers, activation, name. */
export interface CompoundOptions {
  init?: Initializer;
  /** Bias initializer; no Bias layer when omitted (as neon). */
  bias?: Initializer;
  activation?: Transform;
  name?: string;
}

/** neon's Conv: Convolution + Bias '<name>_bias' (when a bias initializer is given) + Activation. fshape = [R, S, K]. */
export function Conv(fshape: readonly [number, number, number], opts: CompoundOptions & { strides?: Pair; padding?: Pair; dilation?: Pair } = {}): Layer[] {
  const conv = new Convolution(fshape, { init: opts.init, strides: opts.strides, padding: opts.padding, dilation: opts.dilation, name: opts.name });
  const layers: Layer[] = [conv];
  if (opts.bias) layers.push(new Bias({ init: opts.bias, name: `${conv.name}_bias` }));
  if (opts.activation) layers.push(new Activation(opts.activation, { name: opts.name ? `${opts.name}_${opts.activation.name}` : undefined }));
  return layers;
}

/** neon's Affine: Linear + Bias '<name>_bias' (when a bias initializer is given) + Activation. */
export function Affine(nout: number, opts: CompoundOptions = {}): Layer[] {
  const lin = new Linear(nout, { init: opts.init, name: opts.name });
  const layers: Layer[] = [lin];
  if (opts.bias) layers.push(new Bias({ init: opts.bias, name: `${lin.name}_bias` }));
  if (opts.activation) layers.push(new Activation(opts.activation, { name: opts.name ? `${opts.name}_${opts.activation.name}` : undefined }));
  return layers;
}
