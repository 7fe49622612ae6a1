// The optimizer protocol: what the model calls once per minibatch, and what checkpoints save.
import type { ParamLayer } from '../layers/param.js';
import type { Json } from './schedule.js';

/** An optimizer's configuration as plain JSON (type, learning rate, momentum, ...), for checkpoints and logs. */
export interface OptimizerDescription {
  type: string;
  [key: string]: Json;
}

/** What Model.fit uses to update parameters: neon's optimizer protocol, plus learning-rate queries and state for checkpoints. */
export interface Optimizer {
  /** The optimizer's name (neon's `name`), or null when none was given. */
  readonly name: string | null;
  /**
   * One update of every parameter of `layers` (neon's `optimize(layer_list, epoch)`, called
   * once per minibatch). `epoch` is 0-based; `bsz` is the batch size the summed gradients
   * are divided by (neon's `be.bsz`, wrapped duplicates included).
   */
  optimize(layers: readonly ParamLayer[], epoch: number, bsz: number): void;
  /**
   * The learning rate `optimize` would apply to `layer` at `epoch`, without changing any
   * schedule state. 0 means the layer's weight gradients are not needed (see GradientDescentMomentum).
   */
  learningRateFor(layer: ParamLayer, epoch: number): number;
  /**
   * Non-parameter state (schedule state) as plain JSON. Per-parameter state (velocities)
   * lives in `param.states` and is saved with the parameters.
   */
  getState(): { [key: string]: Json };
  /** Restore the state from getState() (resuming from a checkpoint). */
  setState(state: Json): void;
  /** Type and settings, JSON-serializable (saved in checkpoints). */
  describe(): OptimizerDescription;
}

export function isOptimizer(x: unknown): x is Optimizer {
  if (x === null || typeof x !== 'object') return false;
  const o = x as Record<string, unknown>;
  return typeof o.optimize === 'function' && typeof o.learningRateFor === 'function' && typeof o.getState === 'function' && typeof o.setState === 'function' && typeof o.describe === 'function';
}
