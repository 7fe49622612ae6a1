// A model rebuilt from a checkpoint alone: checkpoints store every layer's type and
// constructor options (config) in model order, and the input shape, so `export` needs no
// model flags. Initializers are not rebuilt (the weights all come from the file).
import { Activation, type TransformName } from '../layers/activation.js';
import { Bias } from '../layers/bias.js';
import { Convolution } from '../layers/convolution.js';
import { Dropout } from '../layers/dropout.js';
import type { Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import { Pooling } from '../layers/pooling.js';
import type { DropoutMode } from '../autograd/ops/dropout.js';
import type { Pair } from '../kernels/geometry.js';
import { openH5, type H5Group } from '../formats/h5.js';
import { isCheckpointFile } from '../models/checkpoint.js';
import { Model } from '../models/model.js';
import { TlError } from '../util/errors.js';

const BUILDERS: Record<string, (name: string, c: Record<string, unknown>) => Layer> = {
  Convolution: (name, c) => new Convolution(c.fshape as [number, number, number], { strides: c.strides as Pair, padding: c.padding as Pair, dilation: c.dilation as Pair, name }),
  Bias: (name) => new Bias({ name }),
  Activation: (name, c) => new Activation({ name: c.transform as TransformName, ...(c.shortcut ? { shortcut: true } : {}) }, { name }),
  Pooling: (name, c) => new Pooling(c.fshape as Pair, { op: c.op as 'max' | 'avg', strides: c.strides as Pair, padding: c.padding as Pair, name }),
  Linear: (name, c) => new Linear(c.nout as number, { name }),
  Dropout: (name, c) => new Dropout({ keep: c.keep as number, mode: c.mode as DropoutMode, name }),
};

/**
 * The model a tl-scratch checkpoint holds: its layers rebuilt from their stored type and
 * config, initialized with the stored input shape, and the weights loaded (no optimizer
 * state). Throws a TlError for a file that is not a checkpoint or a layer type tl-scratch
 * does not know.
 */
export async function modelFromCheckpoint(path: string): Promise<Model> {
  const f = await openH5(path, 'r', 'checkpoint');
  let layers: Layer[];
  let inShape: number[];
  try {
    if (!isCheckpointFile(f)) throw new TlError(`${path}: an HDF5 file, but not a tl-scratch checkpoint`);
    const g = f.get('layers') as H5Group | null;
    if (!g) throw new TlError(`checkpoint ${path}: no 'layers' group; the file is damaged`);
    inShape = JSON.parse(String(f.attrs['input_shape']?.value ?? '[]')) as number[];
    if (!inShape.length) throw new TlError(`checkpoint ${path}: no input shape stored; it cannot be rebuilt alone`);
    const order = JSON.parse(String(g.attrs['layer_order']?.value ?? '[]')) as string[];
    layers = order.map((name) => {
      const lg = g.get(name) as H5Group | null;
      if (!lg) throw new TlError(`checkpoint ${path}: layer '${name}' is listed but missing; the file is damaged`);
      const type = String(lg.attrs['type']?.value);
      const build = BUILDERS[type];
      if (!build) throw new TlError(`checkpoint ${path}: layer '${name}' has type '${type}', which tl-scratch cannot rebuild (it knows ${Object.keys(BUILDERS).join(', ')})`);
      return build(name, JSON.parse(String(lg.attrs['config']?.value ?? '{}')) as Record<string, unknown>);
    });
  } catch (e) {
    if (e instanceof TlError) throw e;
    throw new TlError(`checkpoint ${path}: cannot read (${(e as Error).message}); the file may be truncated or damaged`);
  } finally {
    f.close();
  }
  const model = new Model(layers);
  model.initialize(inShape);
  await model.loadParams(path, { loadStates: false });
  return model;
}
