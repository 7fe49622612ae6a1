// neon's Activation layer with its transforms. Derivatives follow neon: Rectlin's is taken
// on the output; Softmax's bprop is 1 (the cost's y − t is already the gradient at the
// softmax input: neon/transforms/activation.py, Softmax.bprop); Logistic's is y(1−y) unless shortcut is set.
import type { UnaryOp } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { dense, wrap } from '../autograd/ops/util.js';
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
    const be = x.backend;
    const y = be.alloc(x.dtype, x.size);
    if (t === 'Softmax') {
      // Over the classes of each example: x [N, K] (any trailing shape flattened).
      const N = x.shape[0]!;
      be.softmax(dense(x), N, x.size / Math.max(N, 1), false, y);
    } else {
      be.unary(unaryOf[t]!, dense(x), y, x.size);
    }
    return (this.y = wrap(be, y, x.shape));
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const t = this.transform.name;
    if (t === 'Identity' || t === 'Softmax' || (t === 'Logistic' && this.transform.shortcut)) return delta;
    // Rectlin, Logistic and Tanh take their derivative from the output (UNARY_BACKWARD_READS), the one thing kept.
    const y = this.y!, be = y.backend;
    const dx = be.alloc(delta.dtype, y.size);
    be.unaryBackward(unaryOf[t]!, null, y.storage, dense(delta), dx, y.size);
    return wrap(be, dx, delta.shape);
  }

  protected override config() {
    return { transform: this.transform.name, ...(this.transform.shortcut ? { shortcut: true } : {}) };
  }
}
