// Dropout with neon's two modes. keep = fraction of units kept; the mask is rand < keep,
// drawn fresh on every training forward from the engine's generator.
//   'neon' (default): train y = mask ⊙ x,        infer y = keep · x,  back dx = mask ⊙ g
//   'caffe' (inverted): train y = mask ⊙ x / keep, infer y = x,      back dx = mask ⊙ g / keep
import { rng } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../util/errors.js';
import { noGrad, record } from '../graph.js';
import { mul } from './elementwise.js';
import { wrap } from './util.js';

/** neon's dropout conventions: 'neon' (train mask⊙x, infer keep·x) and 'caffe' (inverted: train mask⊙x/keep, infer x). */
export type DropoutMode = 'neon' | 'caffe';

/**
 * Options of {@link dropout}: training (default true; PyTorch's F.dropout name, the negation of
 * the `inference` flag that layers and Model take, as neon's fprop) and the mode.
 */
export interface DropoutOptions {
  training?: boolean;
  mode?: DropoutMode;
}

/** A fresh mask like x: the mode's training scale (1, or 1/keep for 'caffe') with probability keep, else 0. */
export function dropoutMask(x: Tensor, keep: number, mode: DropoutMode): Tensor {
  const be = x.backend;
  const mask = be.alloc(x.dtype, x.size);
  be.dropoutMask(mask, x.size, keep, mode === 'caffe' ? 1 / keep : 1, () => rng.random());
  return wrap(be, mask, x.shape);
}

/** The scale of inference: keep for 'neon' (the expected value of training's mask), 1 for 'caffe'. */
export function dropoutInferenceScale(keep: number, mode: DropoutMode): number {
  return mode === 'neon' ? keep : 1;
}

/** Dropout keeping each element with probability `keep` (a fresh mask from the engine's generator); at inference the mode's scale. */
export function dropout(x: Tensor, keep: number, opts: DropoutOptions = {}): Tensor {
  if (!(keep > 0 && keep <= 1)) throw new ValueError(`dropout: keep must be in (0, 1], got ${keep}`);
  const mode = opts.mode ?? 'neon';
  const training = opts.training ?? true;
  if (!training) return mode === 'neon' ? mul(x, keep) : x;
  const mask = dropoutMask(x, keep, mode);
  // y = mask ⊙ x; dx = mask ⊙ g
  return record('dropout', [x], noGrad(() => mul(x, mask)), (g) => [mul(g, mask)]);
}
