// A trainable array with its gradient and the optimizer's per-parameter state
// (momentum velocity), as neon keeps ((param, grad), states) triples.
import type { Tensor } from '../tensor/tensor.js';

/** A trainable array: its value, its gradient, and the optimizer's state arrays (velocities). */
export interface Param {
  /** 'W' or 'b' (neon's names inside a layer). */
  readonly name: string;
  /** The values, updated in place by the optimizer. */
  readonly value: Tensor;
  /** Gradient summed over the batch (neon's convention; the optimizer divides by the batch size). */
  readonly grad: Tensor;
  /** Optimizer state arrays (e.g. [velocity]); created lazily by the optimizer, saved in checkpoints. */
  states: Tensor[];
}

/** What an optimizer needs from a layer: its name, class name (for MultiOptimizer lookup) and parameters. */
export interface ParamLayer {
  readonly name: string;
  /** neon's class name: 'Convolution', 'Linear', 'Bias', ... */
  readonly className: string;
  /** The layer's parameters. */
  params(): Param[];
  /**
   * When false, backward skips this layer's weight gradients (beyond neon: set for layers
   * whose optimizer has learning rate 0, which neon would update by exactly zero).
   */
  computeParamGrads: boolean;
}
