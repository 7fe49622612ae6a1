// neon's Activation layer with its transforms. Derivatives follow neon: Rectlin's is taken
// on the output; Softmax's bprop is 1 (the cost's y − t is already the gradient at the
// softmax input: neon/transforms/activation.py, Softmax.bprop); Logistic's is y(1−y) unless shortcut is set.
import type { UnaryOp } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { dense, wrap } from '../autograd/ops/util.js';
import { BaseLayer } from './layer.js';

/** neon's activation transforms. */
export type TransformName = 'Rectlin' | 'Softmax' | 'Logistic' | 'Tanh' | 'Identity';

/** An activation transform, as the Activation layer and the compound builders take it. */
export interface Transform {
  readonly name: TransformName;
  readonly shortcut?: boolean;
}

/** neon's Rectlin: max(x, 0). */
export const Rectlin = (): Transform => ({ name: 'Rectlin' });
/** neon's Softmax over the classes of each example (its bprop is 1: pair it with a cross-entropy cost). */
export const Softmax = (): Transform => ({ name: 'Softmax' });
/** neon's Logistic, 1/(1 + e^−x); with shortcut, bprop passes the delta through (for CrossEntropyBinary). */
export const Logistic = (opts: { shortcut?: boolean } = {}): Transform => ({ name: 'Logistic', shortcut: opts.shortcut ?? false });
/** neon's Tanh. */
export const Tanh = (): Transform => ({ name: 'Tanh' });
/** The identity transform. */
export const Identity = (): Transform => ({ name: 'Identity' });

const unaryOf: Partial<Record<TransformName, UnaryOp>> = { Rectlin: 'relu', Logistic: 'logistic', Tanh: 'tanh' };

/** neon's Activation layer: applies a {@link Transform} elementwise (Softmax: per example). */
export class Activation extends BaseLayer {
  readonly className = 'Activation';
  private y: Tensor | null = null;

  constructor(readonly transform: Transform, opts: { name?: string } = {}) {
    super(opts.name, 'Activation');
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  fprop(x: Tensor, inference = false): Tensor {
    const t = this.transform.name;
    if (t === 'Identity') return x;
    const be = x.backend;
    const y = be.alloc(x.dtype, x.size);
    if (t === 'Softmax') {
      // Over the classes of each example: x [N, K] (any trailing shape flattened).
      const N = x.shape[0]!;
      be.softmax(dense(x), N, x.size / Math.max(N, 1), false, y);
    } else {
      be.unary(unaryOf[t]!, dense(x), y, x.size);
    }
    const out = wrap(be, y, x.shape);
    this.y = inference ? null : out;
    return out;
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const t = this.transform.name;
    if (t === 'Identity' || t === 'Softmax' || (t === 'Logistic' && this.transform.shortcut)) return delta;
    // Rectlin, Logistic and Tanh take their derivative from the output (UNARY_BACKWARD_READS), the one thing kept.
    const y = this.kept(this.y), be = this.backendOf(['the output of its forward pass', y.backend], ['the delta', delta.backend]);
    const dx = be.alloc(delta.dtype, y.size);
    be.unaryBackward(unaryOf[t]!, null, y.storage, dense(delta), dx, y.size);
    return wrap(be, dx, delta.shape);
  }

  protected override config() {
    return { transform: this.transform.name, ...(this.transform.shortcut ? { shortcut: true } : {}) };
  }
}
