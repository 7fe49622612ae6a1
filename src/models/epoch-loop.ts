// The seam of the exercise track's fit-loop task: Model.fit runs the epochs, the callbacks
// and the stopping rules, and each epoch's minibatch loop (fprop, cost, bprop, optimizer
// step) is its own (Model.epochFit) unless a loop is set here; then fit calls that one, with
// the frozen-feature cache off (the loop runs every layer's fprop itself).
import type { DataIterator } from '../data/iterator.js';
import type { GeneralizedCost } from './cost.js';
import type { Model, TrainOptimizer } from './model.js';

/** What an epoch loop is given besides the model and the data. */
export interface EpochSettings {
  optimizer: TrainOptimizer;
  cost: GeneralizedCost;
  /** The epoch's index (from 0), as the optimizer's schedule takes it. */
  epoch: number;
}

/** One epoch of training over every minibatch of `data`; returns the epoch's mean cost. */
export type EpochLoop = (model: Model, data: DataIterator, s: EpochSettings) => number | Promise<number>;

let loop: EpochLoop | null = null;

/** The epoch loop set by setEpochLoop, or null: Model.fit's own. */
export function epochLoop(): EpochLoop | null {
  return loop;
}

/** Make Model.fit run `fn` for each epoch's minibatches (null restores its own); returns the one it replaces. */
export function setEpochLoop(fn: EpochLoop | null): EpochLoop | null {
  const prev = loop;
  loop = fn;
  return prev;
}
