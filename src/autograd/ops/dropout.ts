// Dropout with neon's two modes. keep = fraction of units kept; the mask is rand < keep,
// drawn fresh on every training forward from the engine's generator.
//   'neon' (default): train y = mask ⊙ x,        infer y = keep · x,  back dx = mask ⊙ g
//   'caffe' (inverted): train y = mask ⊙ x / keep, infer y = x,      back dx = mask ⊙ g / keep
import { rng } from '../../tensor/random.js';
import { allocate, Tensor } from '../../tensor/tensor.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { mul } from './elementwise.js';

export type DropoutMode = 'neon' | 'caffe';

export interface DropoutOptions {
  training?: boolean;
  mode?: DropoutMode;
}

/** A fresh 0/1 mask of n values, 1 with probability keep. */
export function dropoutMask(n: number, keep: number, dtype: Tensor['dtype']): Float32Array | Float64Array {
  const m = allocate(dtype, n);
  for (let i = 0; i < n; i++) m[i] = rng.random() < keep ? 1 : 0;
  return m;
}

export function dropout(x: Tensor, keep: number, opts: DropoutOptions = {}): Tensor {
  if (!(keep > 0 && keep <= 1)) throw new ShapeError(`dropout: keep must be in (0, 1], got ${keep}`);
  const mode = opts.mode ?? 'neon';
  const training = opts.training ?? true;
  if (!training) return mode === 'neon' ? mul(x, keep) : x;
  const scale = mode === 'caffe' ? 1 / keep : 1;
  const mask = dropoutMask(x.size, keep, x.dtype);
  if (scale !== 1) for (let i = 0; i < mask.length; i++) mask[i]! *= scale;
  const xd = x.data;
  const y = allocate(x.dtype, xd.length);
  for (let i = 0; i < y.length; i++) y[i] = xd[i]! * mask[i]!;
  return record('dropout', [x], new Tensor(y, x.shape), (g) => {
    const gd = g.data;
    const dx = allocate(x.dtype, gd.length);
    for (let i = 0; i < dx.length; i++) dx[i] = gd[i]! * mask[i]!;
    return [new Tensor(dx, x.shape)];
  });
}
