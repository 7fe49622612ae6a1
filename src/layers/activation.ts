// neon's Activation layer with its transforms. Derivatives follow neon: Rectlin's is taken
// on the output; Softmax's bprop is 1 (the cost's y − t is already the gradient at the
// softmax input: neon/transforms/activation.py, Softmax.bprop); Logistic's is y(1−y) unless shortcut is set.
// The math is the tape's unary and softmax ops' (src/autograd/functions/unary.ts,
// softmax.ts), called without the tape; the shortcuts above are the layer's own.
import type { UnaryOp } from '../kernels/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { softmaxForward } from '../autograd/functions/softmax.js';
import { unaryBackward, unaryForward, unaryOutputSaved, type UnarySaved } from '../autograd/functions/unary.js';
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
  /** What the last training fprop of a Rectlin, Logistic or Tanh kept for bprop: its output. */
  private saved: UnarySaved | null = null;

  constructor(readonly transform: Transform, opts: { name?: string } = {}) {
    super(opts.name, 'Activation');
  }

  protected computeOutShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  fprop(x: Tensor, inference = false): Tensor {
    const t = this.transform.name;
    if (t === 'Identity') return x;
    // Softmax is over the classes of each example: x [N, K] (any trailing shape flattened).
    const N = x.shape[0]!;
    if (t === 'Softmax') return softmaxForward(x.backend, x, N, x.size / Math.max(N, 1), false).y;
    const { y, saved } = unaryForward(x.backend, unaryOf[t]!, x);
    this.saved = inference ? null : saved;
    return y;
  }

  /**
   * A Rectlin whose forward ran inside the layer before it (a convolution's fused epilogue,
   * src/models/epilogue-fusion.ts): y is its output; keep it for bprop as fprop would.
   */
  keepOutput(y: Tensor, inference: boolean): void {
    if (this.transform.name !== 'Rectlin') throw new Error(`layer '${this.name}': only a Rectlin can be fused into the layer before it`);
    this.saved = inference ? null : unaryOutputSaved(y.backend, 'relu', y);
  }

  bprop(delta: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const t = this.transform.name;
    if (t === 'Identity' || t === 'Softmax' || (t === 'Logistic' && this.transform.shortcut)) return delta;
    // Rectlin, Logistic and Tanh take their derivative from the output (UNARY_BACKWARD_READS), the one thing kept.
    const saved = this.kept(this.saved);
    this.backendOf(['the output of its forward pass', saved.be], ['the delta', delta.backend]);
    return unaryBackward(saved, delta);
  }

  protected override config() {
    return { transform: this.transform.name, ...(this.transform.shortcut ? { shortcut: true } : {}) };
  }
}
