// neon's GradientDescentMomentum (neon/optimizers/optimizer.py l.454-539), with neon's
// exact update order. The per-element update is one fused backend kernel (gdmUpdate, whose
// reference is src/kernels/cpu/ref/gdm.ts); this class computes the learning rate, the
// gradient-norm clip and the checks, and keeps the velocities.
import type { Param, ParamLayer } from '../layers/param.js';
import { zeros } from '../autograd/ops/create.js';
import { shapeStr } from '../tensor/shape.js';
import { TlError, UsageError } from '../util/errors.js';
import type { DeviceBuffer, GdmStep } from '../kernels/backend.js';
import { checkEpoch, Schedule, type Json, type LearningRateSchedule } from './schedule.js';
import type { Optimizer, OptimizerDescription } from './optimizer.js';

/** Settings of {@link GradientDescentMomentum} besides the learning rate (neon's keyword arguments). */
export interface GradientDescentMomentumOptions {
  /** μ; 0 (the default) takes neon's momentum-free branch and keeps no velocity. */
  momentumCoef?: number;
  /** L2 coefficient added to the averaged gradient (not halved). */
  wdecay?: number;
  nesterov?: boolean;
  /** Scale all gradients of this optimizer's layers so that ‖g‖/bsz ≤ clip. 0, null or unset: off (neon's `if clip_norm:`). */
  gradientClipNorm?: number | null;
  /** Clip each averaged gradient element to ±|value|. 0, null or unset: off. */
  gradientClipValue?: number | null;
  /** Clip the updated parameters to ±|value| (momentum branch only, see below). 0, null or unset: off. */
  paramClipValue?: number | null;
  schedule?: LearningRateSchedule;
  name?: string | null;
}

function optionalClip(x: number | null | undefined, what: string): number | null {
  if (x === undefined || x === null) return null;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new UsageError(`GradientDescentMomentum: ${what} must be a finite number or null, got ${String(x)}`);
  return x;
}

/** The tensor's buffer, which the update kernel reads from index 0. */
function contiguousStorage(t: Param['value'], what: string): DeviceBuffer {
  if (!t.isContiguous() || t.offset !== 0) throw new TlError(`GradientDescentMomentum: ${what} is not contiguous; the optimizer updates parameters in place and needs contiguous storage`);
  return t.storage;
}

/**
 * Momentum SGD exactly as neon. Per call of `optimize(layers, epoch, bsz)`:
 * 1. `lr = schedule.getLearningRate(learningRate, epoch)`;
 * 2. `scale = clip / max(‖g‖/bsz, clip)` over all raw (summed) gradients of `layers` when
 *    gradientClipNorm is set, else 1;
 * 3. for each parameter: a zero velocity is appended to `param.states` if it has none and
 *    μ ≠ 0; `g = grad/bsz`; `g = clip(g, ±gradientClipValue)`; then
 *    - μ = 0: `param = −lr·scale·g + (1 − lr·wdecay)·param`. neon then computes the param
 *      clip but does not write it back (l.523), so paramClipValue has no effect in this
 *      branch; we reproduce that quirk;
 *    - μ ≠ 0: `g' = scale·g + wdecay·param`; `v = μ·v − lr·g'` (stored);
 *      `param = clip(param + v)`, or with Nesterov `param = clip(param + μ·v − lr·g')`
 *      using the new v.
 *
 * Numerics: each element is computed in float64 from the stored values; the velocity is
 * rounded to the parameter's dtype when stored and that stored value is used for the
 * parameter update (as neon's float32 dataflow). Where the update adds exactly zero the
 * stored value is kept as is, so a −0 is not turned into +0.
 *
 * Learning rate 0 (beyond neon, same result): the gradient term −0·g' is zero for any
 * finite gradient, so at lr 0 the gradients are not read at all: the μ = 0 branch leaves
 * the parameters untouched, and the momentum branch only does `v = μ·v`, `param += v`
 * (bit-identical while v is 0). A model may therefore skip weight gradients
 * (`computeParamGrads = false`) for layers whose learning rate is 0; it is an error to
 * skip them for a layer this optimizer updates with lr ≠ 0.
 */
export class GradientDescentMomentum implements Optimizer {
  readonly learningRate: number;
  readonly momentumCoef: number;
  readonly wdecay: number;
  readonly nesterov: boolean;
  readonly gradientClipNorm: number | null;
  readonly gradientClipValue: number | null;
  readonly paramClipValue: number | null;
  readonly schedule: LearningRateSchedule;
  readonly name: string | null;

  constructor(learningRate: number, opts: GradientDescentMomentumOptions = {}) {
    const where = 'GradientDescentMomentum';
    if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate < 0) throw new UsageError(`${where}: learning rate must be a finite number >= 0, got ${String(learningRate)}`);
    const mu = opts.momentumCoef ?? 0;
    if (typeof mu !== 'number' || !Number.isFinite(mu) || mu < 0 || mu >= 1) throw new UsageError(`${where}: momentumCoef must be in [0, 1), got ${String(mu)}`);
    const wd = opts.wdecay ?? 0;
    if (typeof wd !== 'number' || !Number.isFinite(wd) || wd < 0) throw new UsageError(`${where}: wdecay must be a finite number >= 0, got ${String(wd)}`);
    const clipNorm = optionalClip(opts.gradientClipNorm, 'gradientClipNorm');
    if (clipNorm !== null && clipNorm < 0) throw new UsageError(`${where}: gradientClipNorm must be >= 0, got ${clipNorm}`);
    this.learningRate = learningRate;
    this.momentumCoef = mu;
    this.wdecay = wd;
    this.nesterov = opts.nesterov ?? false;
    this.gradientClipNorm = clipNorm;
    this.gradientClipValue = optionalClip(opts.gradientClipValue, 'gradientClipValue');
    this.paramClipValue = optionalClip(opts.paramClipValue, 'paramClipValue');
    const schedule = opts.schedule ?? new Schedule();
    if (typeof schedule?.getLearningRate !== 'function') throw new UsageError(`${where}: schedule must be a Schedule (Schedule, StepSchedule, PowerSchedule, ExpSchedule, PolySchedule)`);
    this.schedule = schedule;
    this.name = opts.name ?? null;
  }

  /** The LR at `epoch` given the schedule's current state, without changing it. */
  learningRateAt(epoch: number): number {
    return this.schedule.peekLearningRate(this.learningRate, epoch);
  }

  learningRateFor(_layer: ParamLayer, epoch: number): number {
    return this.learningRateAt(epoch);
  }

  optimize(layers: readonly ParamLayer[], epoch: number, bsz: number): void {
    checkEpoch(epoch, 'GradientDescentMomentum.optimize');
    if (!Number.isInteger(bsz) || bsz <= 0) throw new UsageError(`GradientDescentMomentum.optimize: batch size must be a positive integer, got ${String(bsz)}`);
    const lr = this.schedule.getLearningRate(this.learningRate, epoch);
    if (!Number.isFinite(lr)) throw new TlError(`GradientDescentMomentum${this.name ? ` '${this.name}'` : ''}: the schedule gave a non-finite learning rate (${lr}) at epoch ${epoch}: ${JSON.stringify(this.schedule.describe())}`);
    const plist: { layer: ParamLayer; param: Param }[] = [];
    for (const layer of layers) for (const param of layer.params()) plist.push({ layer, param });

    if (lr === 0) {
      this.optimizeAtZeroLr(plist);
      return;
    }
    for (const { layer } of plist) {
      if (!layer.computeParamGrads) {
        throw new TlError(`GradientDescentMomentum: layer '${layer.name}' has computeParamGrads = false but its learning rate at epoch ${epoch} is ${lr}; only layers at learning rate 0 may skip their weight gradients`);
      }
    }
    const step: GdmStep = {
      lr, scale: this.clipGradientNorm(plist, bsz), bsz, mu: this.momentumCoef, wdecay: this.wdecay, nesterov: this.nesterov,
      gclip: this.gradientClipValue ? Math.abs(this.gradientClipValue) : null,
      pclip: this.paramClipValue ? Math.abs(this.paramClipValue) : null,
    };
    for (const { layer, param } of plist) {
      const p = contiguousStorage(param.value, `parameter '${layer.name}.${param.name}'`);
      const gt = param.grad;
      if (gt.size !== param.value.size) throw new TlError(`GradientDescentMomentum: layer '${layer.name}' parameter '${param.name}' has shape ${shapeStr(param.value.shape)} but its gradient has shape ${shapeStr(gt.shape)}`);
      if (gt.backend !== param.value.backend) throw new TlError(`GradientDescentMomentum: layer '${layer.name}' parameter '${param.name}' lives on backend '${param.value.backend.name}' but its gradient on '${gt.backend.name}'`);
      const g = contiguousStorage(gt, `gradient of '${layer.name}.${param.name}'`);
      param.value.backend.gdmUpdate(p, g, this.velocity(layer, param), param.value.size, step);
    }
  }

  /** lr = 0: no gradient is read (see the class comment). */
  private optimizeAtZeroLr(plist: readonly { layer: ParamLayer; param: Param }[]): void {
    if (this.momentumCoef === 0) return; // −0·scale·g + (1 − 0)·param = param; the clip is not written back
    const step: GdmStep = {
      lr: 0, scale: 1, bsz: 1, mu: this.momentumCoef, wdecay: this.wdecay, nesterov: this.nesterov, gclip: null,
      pclip: this.paramClipValue ? Math.abs(this.paramClipValue) : null,
    };
    // A frozen layer that never moved has v = 0, and the kernel skips it (μ·0 = 0, param + 0 = param).
    for (const { layer, param } of plist) {
      const p = contiguousStorage(param.value, `parameter '${layer.name}.${param.name}'`);
      param.value.backend.gdmUpdate(p, null, this.velocity(layer, param), param.value.size, step);
    }
  }

  /** neon l.72-96: clip / max(‖g‖/bsz, clip) over the raw summed gradients, or 1. */
  private clipGradientNorm(plist: readonly { param: Param }[], bsz: number): number {
    const clip = this.gradientClipNorm;
    if (!clip) return 1;
    let sq = 0;
    for (const { param } of plist) sq += param.grad.backend.sumOfSquares(contiguousStorage(param.grad, `gradient '${param.name}'`), 0, param.grad.size);
    const norm = Math.sqrt(sq) / bsz;
    return clip / Math.max(norm, clip);
  }

  /** The velocity array (created as zeros on first use when μ ≠ 0), or null when μ = 0. */
  private velocity(layer: ParamLayer, param: Param): DeviceBuffer | null {
    if (this.momentumCoef === 0) return null;
    if (param.states.length === 0) param.states.push(zeros(param.value.shape, { dtype: param.value.dtype, backend: param.value.backend }));
    const vt = param.states[0]!;
    if (vt.size !== param.value.size) {
      throw new TlError(`GradientDescentMomentum: layer '${layer.name}' parameter '${param.name}' has shape ${shapeStr(param.value.shape)} but its velocity has shape ${shapeStr(vt.shape)}`);
    }
    return contiguousStorage(vt, `velocity of '${layer.name}.${param.name}'`);
  }

  getState(): { [key: string]: Json } {
    return { schedule: this.schedule.getState() };
  }

  setState(state: Json): void {
    if (state === null || typeof state !== 'object' || Array.isArray(state) || !('schedule' in state)) {
      throw new TlError(`GradientDescentMomentum.setState: expected {schedule: ...}, got ${JSON.stringify(state)}`);
    }
    this.schedule.setState(state.schedule ?? null);
  }

  describe(): OptimizerDescription {
    return {
      type: 'GradientDescentMomentum',
      name: this.name,
      learningRate: this.learningRate,
      momentumCoef: this.momentumCoef,
      wdecay: this.wdecay,
      nesterov: this.nesterov,
      gradientClipNorm: this.gradientClipNorm,
      gradientClipValue: this.gradientClipValue,
      paramClipValue: this.paramClipValue,
      schedule: this.schedule.describe(),
    };
  }
}
