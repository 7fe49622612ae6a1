// Training callbacks, as neon's: hooks at train/epoch/minibatch boundaries. A callback with
// a frequency fires at epoch e when (e + 1) % freq == 0 (neon's should_fire).
import type { Tensor } from '../tensor/tensor.js';
import type { Model } from './model.js';

/** A minibatch as callbacks see it: outputs y, targets t and the number of valid rows. */
export interface MinibatchOutputs {
  y: Tensor;
  t: Tensor;
  valid: number;
}

/** Hooks into Model.fit, as neon's callbacks; every one optional and may be async. */
export interface Callback {
  /** Before the first epoch. */
  onTrainBegin?(model: Model, numEpochs: number): void | Promise<void>;
  /** Before each epoch (0-based). */
  onEpochBegin?(model: Model, epoch: number): void | Promise<void>;
  /** `batch` holds the minibatch's outputs y and targets t ([bsz, nclass]); rows from `valid` on are wrap-around duplicates. */
  onMinibatchEnd?(model: Model, epoch: number, minibatch: number, cost: number, batch?: MinibatchOutputs): void | Promise<void>;
  /** After each epoch, with its mean training cost (neon's). */
  onEpochEnd?(model: Model, epoch: number, trainCost: number): void | Promise<void>;
  /** After the last epoch (or an interruption). */
  onTrainEnd?(model: Model): void | Promise<void>;
}

function shouldFire(epoch: number, freq: number): boolean {
  return freq > 0 && (epoch + 1) % freq === 0;
}

/** Running mean of the last ≤ wsz minibatch costs (neon's TrainCostCallback, wsz 10). */
export class TrainCostCallback implements Callback {
  readonly history: number[] = [];
  private window: number[] = [];
  constructor(readonly wsz = 10) {}
  onMinibatchEnd(_m: Model, _e: number, _mb: number, cost: number): void {
    this.window.push(cost);
    if (this.window.length > this.wsz) this.window.shift();
    this.history.push(this.window.reduce((a, b) => a + b, 0) / this.window.length);
  }
  /** The latest running mean (NaN before the first minibatch). */
  get smoothed(): number {
    return this.history.length ? this.history[this.history.length - 1]! : NaN;
  }
}

/** Call `fn(model, epoch)` every `freq` epochs (evaluation, serialization, logging). */
export class EveryNEpochs implements Callback {
  /**
   * Call `fn` at the end of every `freq`-th epoch.
   * @param freq every how many epochs
   * @param fn what to run, with the model and the 0-based epoch
   */
  constructor(readonly freq: number, readonly fn: (model: Model, epoch: number) => void | Promise<void>) {}
  async onEpochEnd(model: Model, epoch: number): Promise<void> {
    if (shouldFire(epoch, this.freq)) await this.fn(model, epoch);
  }
}
