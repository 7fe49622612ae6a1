// neon's Dropout layer (neon-spec §8). keep = fraction kept, mask = rand < keep drawn at
// every training fprop. Default mode: train mask⊙x, infer keep·x. 'caffe': inverted.
import { dropoutMask, type DropoutMode } from '../autograd/ops/dropout.js';
import { allocate, Tensor } from '../tensor/tensor.js';
import type { FloatArray } from '../kernels/backend.js';
import { ShapeError } from '../util/errors.js';
import { BaseLayer } from './layer.js';

export class Dropout extends BaseLayer {
  readonly className = 'Dropout';
  readonly keep: number;
  readonly mode: DropoutMode;
  private mask: FloatArray | null = null;

  constructor(opts: { keep?: number; mode?: DropoutMode; name?: string } = {}) {
    super(opts.name, 'Dropout');
    this.keep = opts.keep ?? 0.5;
    this.mode = opts.mode ?? 'neon';
    if (!(this.keep > 0 && this.keep <= 1)) throw new ShapeError(`Dropout '${this.name}': keep must be in (0, 1], got ${this.keep}`);
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  fprop(x: Tensor, inference: boolean): Tensor {
    const xd = x.data;
    const y = allocate(x.dtype, xd.length);
    if (inference) {
      const s = this.mode === 'neon' ? this.keep : 1;
      for (let i = 0; i < y.length; i++) y[i] = xd[i]! * s;
      return new Tensor(y, x.shape);
    }
    const mask = dropoutMask(xd.length, this.keep, x.dtype);
    if (this.mode === 'caffe') for (let i = 0; i < mask.length; i++) mask[i]! /= this.keep;
    for (let i = 0; i < y.length; i++) y[i] = xd[i]! * mask[i]!;
    this.mask = mask;
    return new Tensor(y, x.shape);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const d = delta.data;
    const dx = allocate(delta.dtype, d.length);
    for (let i = 0; i < dx.length; i++) dx[i] = d[i]! * this.mask![i]!;
    return new Tensor(dx, delta.shape);
  }

  protected override config() {
    return { keep: this.keep, mode: this.mode };
  }
}
