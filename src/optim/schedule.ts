// Learning-rate schedules, exactly as neon's (neon/optimizers/optimizer.py; docs/neon-notes.md#optimizers).
// `epoch` is 0-based and the LR only changes at epoch granularity.
//
// Beyond neon: every schedule has getState()/setState() with plain JSON, so the stateful
// StepSchedule (and Schedule(list, list)) resumes exactly after a checkpoint; neon does not
// save that state and falls back to the base LR until the next step epoch.
import { TlError, UsageError } from '../util/errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A schedule's configuration as plain JSON (for checkpoints and logs). */
export interface ScheduleDescription {
  type: string;
  [key: string]: Json;
}

/** neon's learning-rate schedules: the rate of each epoch from the base rate. */
export interface LearningRateSchedule {
  /**
   * The LR for this epoch (0-based). May update the schedule's state, as neon's
   * `get_learning_rate` does (StepSchedule remembers the last step reached).
   */
  getLearningRate(baseLr: number, epoch: number): number;
  /** What getLearningRate would return now for this epoch, without changing any state. */
  peekLearningRate(baseLr: number, epoch: number): number;
  /** Type and settings, JSON-serializable (saved in checkpoints). */
  describe(): ScheduleDescription;
  /** The mutable state (StepSchedule: the last step reached), for checkpoints. */
  getState(): { [key: string]: Json };
  /** Restore the state from getState(). */
  setState(state: Json): void;
}

export function checkEpoch(epoch: number, where: string): void {
  if (!Number.isInteger(epoch) || epoch < 0) throw new UsageError(`${where}: epoch must be a non-negative integer (0-based), got ${String(epoch)}`);
}

function checkFinite(x: unknown, what: string, where: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new UsageError(`${where}: ${what} must be a finite number, got ${String(x)}`);
  return x;
}

function checkEpochList(list: unknown, where: string): number[] {
  if (!Array.isArray(list)) throw new UsageError(`${where}: step_config must be a list of epochs`);
  return list.map((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) throw new UsageError(`${where}: step_config[${i}] must be a non-negative integer epoch, got ${String(s)}`);
    return s;
  });
}

function readSteps(state: Json, where: string): number {
  if (state === null || typeof state !== 'object' || Array.isArray(state) || typeof state.steps !== 'number' || !Number.isFinite(state.steps)) {
    throw new TlError(`${where}.setState: expected {steps: number}, got ${JSON.stringify(state)}`);
  }
  return state.steps;
}

function checkNoState(state: Json, where: string): void {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new TlError(`${where}.setState: expected an object, got ${JSON.stringify(state)}`);
}

/** The absolute-value lookup shared by Schedule(list, list) and StepSchedule (neon l.215-264). */
function stepLookup(stepConfig: readonly number[], change: readonly number[], steps: number, baseLr: number, epoch: number): { steps: number; lr: number } {
  const i = stepConfig.indexOf(epoch); // first occurrence, as Python's list.index
  const s = i >= 0 ? change[i]! : steps;
  return { steps: s, lr: s === 0 ? baseLr : s };
}

/**
 * neon's `Schedule(step_config=None, change=1.)`:
 * - `new Schedule()`: constant LR;
 * - `new Schedule(stepEpochs: number[], change: number)`: `lr·change^(#{s ∈ stepEpochs : epoch ≥ s})`;
 * - `new Schedule(step: number, change: number)`: `lr·change^floor(epoch/step)` (neon's deprecated form of PowerSchedule);
 * - `new Schedule(stepEpochs: number[], values: number[])`: stateful, as StepSchedule.
 */
export class Schedule implements LearningRateSchedule {
  readonly stepConfig: number | readonly number[] | null;
  readonly change: number | readonly number[];
  /** neon's `self.steps`: a step count (stateless forms) or the current absolute LR (list/list form; 0 = base LR). */
  protected steps = 0;

  constructor(stepConfig?: number | readonly number[] | null, change: number | readonly number[] = 1) {
    const where = 'Schedule';
    if (Array.isArray(change)) {
      if (!Array.isArray(stepConfig)) throw new UsageError(`${where}: a list of change values needs a list step_config (use StepSchedule(stepConfig, change))`);
      const sc = checkEpochList(stepConfig, where);
      if (sc.length !== change.length) throw new UsageError(`${where}: step_config has ${sc.length} epochs but change has ${change.length} values; they must have the same length`);
      this.stepConfig = Object.freeze(sc);
      this.change = Object.freeze(change.map((c, i) => checkFinite(c, `change[${i}]`, where)));
      return;
    }
    this.change = checkFinite(change, 'change', where);
    if (stepConfig === undefined || stepConfig === null) this.stepConfig = null;
    else if (Array.isArray(stepConfig)) this.stepConfig = Object.freeze(checkEpochList(stepConfig, where));
    else {
      const step = stepConfig as number;
      if (typeof step !== 'number' || !Number.isInteger(step) || step <= 0) throw new UsageError(`${where}: an integer step_config must be a positive integer, got ${String(step)}`);
      this.stepConfig = step;
    }
  }

  private compute(baseLr: number, epoch: number): { steps: number; lr: number } {
    checkEpoch(epoch, 'Schedule.getLearningRate');
    const sc = this.stepConfig;
    if (Array.isArray(sc) && Array.isArray(this.change)) return stepLookup(sc, this.change, this.steps, baseLr, epoch);
    const change = this.change as number;
    let steps = this.steps;
    if (typeof sc === 'number') steps = Math.floor(epoch / sc);
    else if (Array.isArray(sc)) steps = sc.filter((s) => epoch >= s).length;
    return { steps, lr: baseLr * change ** steps };
  }

  getLearningRate(baseLr: number, epoch: number): number {
    const r = this.compute(baseLr, epoch);
    this.steps = r.steps;
    return r.lr;
  }

  peekLearningRate(baseLr: number, epoch: number): number {
    return this.compute(baseLr, epoch).lr;
  }

  describe(): ScheduleDescription {
    const sc = this.stepConfig;
    return { type: 'Schedule', stepConfig: sc === null ? null : typeof sc === 'number' ? sc : [...sc], change: typeof this.change === 'number' ? this.change : [...this.change] };
  }

  getState(): { [key: string]: Json } {
    return { steps: this.steps };
  }

  setState(state: Json): void {
    this.steps = readSteps(state, 'Schedule');
  }
}

/**
 * neon's `StepSchedule(step_config, change)`: at an epoch listed in `stepConfig` the LR
 * becomes the absolute value `change[i]` and stays there (the schedule remembers it); before
 * the first step, or when the value reached is 0, the base LR is returned. Stateful: resuming
 * needs getState()/setState().
 */
export class StepSchedule implements LearningRateSchedule {
  readonly stepConfig: readonly number[];
  readonly change: readonly number[];
  /** The current absolute LR, 0 meaning "the base LR" (neon's `self.steps`). */
  private steps = 0;

  constructor(stepConfig: readonly number[], change: readonly number[]) {
    const where = 'StepSchedule';
    if (!Array.isArray(stepConfig) || !Array.isArray(change)) throw new UsageError(`${where}: step_config and change must both be lists`);
    const sc = checkEpochList(stepConfig, where);
    if (sc.length !== change.length) throw new UsageError(`${where}: step_config has ${sc.length} epochs but change has ${change.length} values; they must have the same length`);
    this.stepConfig = Object.freeze(sc);
    this.change = Object.freeze(change.map((c, i) => checkFinite(c, `change[${i}]`, where)));
  }

  getLearningRate(baseLr: number, epoch: number): number {
    checkEpoch(epoch, 'StepSchedule.getLearningRate');
    const r = stepLookup(this.stepConfig, this.change, this.steps, baseLr, epoch);
    this.steps = r.steps;
    return r.lr;
  }

  peekLearningRate(baseLr: number, epoch: number): number {
    checkEpoch(epoch, 'StepSchedule.peekLearningRate');
    return stepLookup(this.stepConfig, this.change, this.steps, baseLr, epoch).lr;
  }

  describe(): ScheduleDescription {
    return { type: 'StepSchedule', stepConfig: [...this.stepConfig], change: [...this.change] };
  }

  getState(): { [key: string]: Json } {
    return { steps: this.steps };
  }

  setState(state: Json): void {
    this.steps = readSteps(state, 'StepSchedule');
  }
}

/** Stateless schedules share the no-op state methods. */
abstract class StatelessSchedule implements LearningRateSchedule {
  /** The rate at `epoch` for base rate `baseLr`. */
  abstract getLearningRate(baseLr: number, epoch: number): number;
  /** Type and settings, JSON-serializable. */
  abstract describe(): ScheduleDescription;
  peekLearningRate(baseLr: number, epoch: number): number {
    return this.getLearningRate(baseLr, epoch);
  }
  getState(): { [key: string]: Json } {
    return {};
  }
  setState(state: Json): void {
    checkNoState(state, this.describe().type);
  }
}

/** neon's `PowerSchedule(step_config, change)`: `lr·change^floor(epoch/step)`. */
export class PowerSchedule extends StatelessSchedule {
  constructor(readonly stepConfig: number, readonly change: number) {
    super();
    if (typeof stepConfig !== 'number' || !Number.isInteger(stepConfig) || stepConfig <= 0) throw new UsageError(`PowerSchedule: step_config must be a positive integer, got ${String(stepConfig)}`);
    checkFinite(change, 'change', 'PowerSchedule');
  }
  /** The rate at `epoch` for base rate `baseLr`. */
  getLearningRate(baseLr: number, epoch: number): number {
    checkEpoch(epoch, 'PowerSchedule.getLearningRate');
    return baseLr * this.change ** Math.floor(epoch / this.stepConfig);
  }
  /** Type and settings, JSON-serializable. */
  describe(): ScheduleDescription {
    return { type: 'PowerSchedule', stepConfig: this.stepConfig, change: this.change };
  }
}

/** neon's `ExpSchedule(decay)`: `lr/(1 + decay·epoch)` (despite the name, inverse-time decay). */
export class ExpSchedule extends StatelessSchedule {
  constructor(readonly decay: number) {
    super();
    checkFinite(decay, 'decay', 'ExpSchedule');
    if (decay < 0) throw new UsageError(`ExpSchedule: decay must be >= 0, got ${decay}`);
  }
  /** The rate at `epoch` for base rate `baseLr`. */
  getLearningRate(baseLr: number, epoch: number): number {
    checkEpoch(epoch, 'ExpSchedule.getLearningRate');
    return baseLr / (1 + this.decay * epoch);
  }
  /** Type and settings, JSON-serializable. */
  describe(): ScheduleDescription {
    return { type: 'ExpSchedule', decay: this.decay };
  }
}

/**
 * neon's `PolySchedule(total_epochs, power)`: `lr·(1 − epoch // total)^power`, with the
 * integer division exactly as neon writes it (so the LR is the base LR before `total`,
 * `0^power` from `total` to `2·total − 1`, and so on; a negative base with a fractional
 * power gives NaN here, where Python would give a complex number).
 */
export class PolySchedule extends StatelessSchedule {
  constructor(readonly totalEpochs: number, readonly power: number) {
    super();
    if (typeof totalEpochs !== 'number' || !Number.isInteger(totalEpochs) || totalEpochs <= 0) throw new UsageError(`PolySchedule: total_epochs must be a positive integer, got ${String(totalEpochs)}`);
    checkFinite(power, 'power', 'PolySchedule');
  }
  /** The rate at `epoch` for base rate `baseLr`. */
  getLearningRate(baseLr: number, epoch: number): number {
    checkEpoch(epoch, 'PolySchedule.getLearningRate');
    return baseLr * (1 - Math.floor(epoch / this.totalEpochs)) ** this.power;
  }
  /** Type and settings, JSON-serializable. */
  describe(): ScheduleDescription {
    return { type: 'PolySchedule', totalEpochs: this.totalEpochs, power: this.power };
  }
}

function num(d: ScheduleDescription, key: string): number {
  const v = d[key];
  if (typeof v !== 'number') throw new TlError(`schedule description ${JSON.stringify(d)}: ${key} must be a number`);
  return v;
}

function numList(d: ScheduleDescription, key: string): number[] {
  const v = d[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new TlError(`schedule description ${JSON.stringify(d)}: ${key} must be a list of numbers`);
  return v as number[];
}

/** Rebuild a schedule from its describe() output (state is restored separately with setState). */
export function scheduleFromDescription(d: ScheduleDescription): LearningRateSchedule {
  switch (d.type) {
    case 'Schedule': {
      const sc = d.stepConfig;
      const ch = d.change;
      const stepConfig = sc === null || sc === undefined ? null : typeof sc === 'number' ? sc : numList(d, 'stepConfig');
      const change = Array.isArray(ch) ? numList(d, 'change') : num(d, 'change');
      return new Schedule(stepConfig, change);
    }
    case 'StepSchedule':
      return new StepSchedule(numList(d, 'stepConfig'), numList(d, 'change'));
    case 'PowerSchedule':
      return new PowerSchedule(num(d, 'stepConfig'), num(d, 'change'));
    case 'ExpSchedule':
      return new ExpSchedule(num(d, 'decay'));
    case 'PolySchedule':
      return new PolySchedule(num(d, 'totalEpochs'), num(d, 'power'));
    default:
      throw new TlError(`unknown schedule type ${JSON.stringify(d.type)} (expected Schedule, StepSchedule, PowerSchedule, ExpSchedule or PolySchedule)`);
  }
}
