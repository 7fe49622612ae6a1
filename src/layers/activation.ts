// neon's Activation layer with its transforms. Derivatives follow neon: Rectlin's is taken
// on the output; Softmax's bprop is 1 (the cost's y − t is already the gradient at the
// softmax input, neon-spec §7.1); Logistic's is y(1−y) unless shortcut is set.
import { backend } from '../kernels/index.js';
import type { UnaryOp } from '../kernels/backend.js';
import { allocate, Tensor } from '../tensor/tensor.js';
import { BaseLayer } from './layer.js';

export type TransformName = 'Rectlin' | 'Softmax' | 'Logistic' | 'Tanh' | 'Identity';

export interface Transform {
  readonly name: TransformName;
  readonly shortcut?: boolean;
}

export const Rectlin = (): Transform => ({ name: 'Rectlin' });
export const Softmax = (): Transform => ({ name: 'Softmax' });
export const Logistic = (opts: { shortcut?: boolean } = {}): Transform => ({ name: 'Logistic', shortcut: opts.shortcut ?? false });
export const Tanh = (): Transform => ({ name: 'Tanh' });
export const Identity = (): Transform => ({ name: 'Identity' });

const unaryOf: Partial<Record<TransformName, UnaryOp>> = { Rectlin: 'relu', Logistic: 'logistic', Tanh: 'tanh' };

export class Activation extends BaseLayer {
  readonly className = 'Activation';
  private y: Tensor | null = null;

  constructor(readonly transform: Transform, opts: { name?: string } = {}) {
    super(opts.name, 'Activation');
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  fprop(x: Tensor, _inference?: boolean): Tensor {
    const t = this.transform.name;
    if (t === 'Identity') return (this.y = x);
    const xd = x.data;
    const y = allocate(x.dtype, xd.length);
    if (t === 'Softmax') {
      // Over the classes of each example: x [N, K] (any trailing shape flattened).
      const N = x.shape[0]!;
      backend().softmax(xd, N, xd.length / Math.max(N, 1), false, y);
    } else {
      backend().unary(unaryOf[t]!, xd, y, xd.length);
    }
    return (this.y = new Tensor(y, x.shape));
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const t = this.transform.name;
    if (t === 'Identity' || t === 'Softmax' || (t === 'Logistic' && this.transform.shortcut)) return delta;
    const yd = this.y!.data;
    const dx = allocate(delta.dtype, yd.length);
    backend().unaryBackward(unaryOf[t]!, yd, yd, delta.data, dx, yd.length);
    return new Tensor(dx, delta.shape);
  }

  protected override config() {
    return { transform: this.transform.name, ...(this.transform.shortcut ? { shortcut: true } : {}) };
  }
}
