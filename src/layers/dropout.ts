// neon's Dropout layer (neon/layers/layer.py, Dropout). keep = fraction kept, mask =
// rand < keep drawn at every training fprop. Default mode: train mask⊙x, infer keep·x.
// 'caffe': inverted. The mask and the inference scale are the autograd op's
// (src/autograd/ops/dropout.ts); here they are applied without a tape.
import { dropoutInferenceScale, dropoutMask, type DropoutMode } from '../autograd/ops/dropout.js';
import { noGrad } from '../autograd/graph.js';
import { mul } from '../autograd/ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
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
    if (!(this.keep > 0 && this.keep <= 1)) throw new ValueError(`Dropout '${this.name}': keep must be in (0, 1], got ${this.keep}`);
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  fprop(x: Tensor, inference: boolean): Tensor {
    return noGrad(() => {
      if (inference) return mul(x, dropoutInferenceScale(this.keep, this.mode));
      this.mask = dropoutMask(x, this.keep, this.mode);
      return mul(x, this.mask);
    });
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    return noGrad(() => mul(delta, this.mask!));
  }

  protected override config() {
    return { keep: this.keep, mode: this.mode };
  }
}
