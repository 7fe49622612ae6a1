// neon's Dropout layer (neon/layers/layer.py, Dropout). keep = fraction kept, mask =
// rand < keep drawn at every training fprop. Default mode: train mask⊙x, infer keep·x.
// 'caffe': inverted. The mask, the inference scale, the forward and the backward are the
// dropout op's (src/autograd/functions/dropout.ts), called without the tape.
import { checkKeep, dropoutBackward, dropoutForward, dropoutInferenceScale, type DropoutMode } from '../autograd/functions/dropout.js';
import { noGrad } from '../autograd/graph.js';
import { mul } from '../autograd/ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { BaseLayer } from './layer.js';

/** neon's Dropout layer: train y = mask⊙x (mask kept with probability keep); inference y = keep·x ('neon' mode) or x ('caffe'). */
export class Dropout extends BaseLayer {
  readonly className = 'Dropout';
  readonly keep: number;
  readonly mode: DropoutMode;
  private mask: Tensor | null = null;

  constructor(opts: { keep?: number; mode?: DropoutMode; name?: string } = {}) {
    super(opts.name, 'Dropout');
    this.keep = opts.keep ?? 0.5;
    this.mode = opts.mode ?? 'neon';
    checkKeep(`Dropout '${this.name}'`, this.keep);
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  fprop(x: Tensor, inference: boolean): Tensor {
    if (inference) return noGrad(() => mul(x, dropoutInferenceScale(this.keep, this.mode)));
    const { y, mask } = dropoutForward(x, this.keep, this.mode);
    this.mask = mask;
    return y;
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    return dropoutBackward(this.mask!, delta);
  }

  protected override config() {
    return { keep: this.keep, mode: this.mode };
  }
}
