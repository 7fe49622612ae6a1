// Dropout with neon's two modes, written once for the tape's dropout op
// (src/autograd/ops/dropout.ts) and neon's Dropout layer (src/layers/dropout.ts).
// keep = fraction of units kept; the mask is rand < keep, drawn fresh on every training
// forward from the engine's generator.
//   'neon' (default): train y = mask ⊙ x,        infer y = keep · x,  back dx = mask ⊙ g
//   'caffe' (inverted): train y = mask ⊙ x / keep, infer y = x,      back dx = mask ⊙ g / keep
// (the mask holds 1/keep instead of 1 in 'caffe' mode, so both backwards are mask ⊙ g).
import { rng } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../util/errors.js';
import { noGrad } from '../graph.js';
import { mul } from '../ops/elementwise.js';
import { wrap } from '../ops/util.js';

/** neon's dropout conventions: 'neon' (train mask⊙x, infer keep·x) and 'caffe' (inverted: train mask⊙x/keep, infer x). */
export type DropoutMode = 'neon' | 'caffe';

/** keep must be a fraction in (0, 1]; `who` names the op or the layer in the message. */
export function checkKeep(who: string, keep: number): void {
  if (!(keep > 0 && keep <= 1)) throw new ValueError(`${who}: keep must be in (0, 1], got ${keep}`);
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

/** The training forward: y = mask ⊙ x with a fresh mask, which the backward reads. Not recorded on the tape. */
export function dropoutForward(x: Tensor, keep: number, mode: DropoutMode): { y: Tensor; mask: Tensor } {
  const mask = dropoutMask(x, keep, mode);
  return { y: noGrad(() => mul(x, mask)), mask };
}

/** dx = mask ⊙ dy. Not recorded on the tape. */
export function dropoutBackward(mask: Tensor, dy: Tensor): Tensor {
  return noGrad(() => mul(dy, mask));
}
