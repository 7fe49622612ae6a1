// Rebuild an optimizer from its describe() output (e.g. read back from a checkpoint).
// State (schedule steps) is restored separately with setState; velocities live in the params.
import { TlError } from '../util/errors.js';
import { GradientDescentMomentum } from './gdm.js';
import { MultiOptimizer } from './multi.js';
import type { Optimizer, OptimizerDescription } from './optimizer.js';
import { scheduleFromDescription, type Json, type ScheduleDescription } from './schedule.js';

function isObject(x: Json | undefined): x is { [key: string]: Json } {
  return x !== null && x !== undefined && typeof x === 'object' && !Array.isArray(x);
}

function optNum(d: OptimizerDescription, key: string): number | null {
  const v = d[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') throw new TlError(`optimizer description: ${key} must be a number or null, got ${JSON.stringify(v)}`);
  return v;
}

export function optimizerFromDescription(d: OptimizerDescription): Optimizer {
  if (!isObject(d as Json)) throw new TlError(`optimizer description must be an object, got ${JSON.stringify(d)}`);
  const name = typeof d.name === 'string' ? d.name : null;
  switch (d.type) {
    case 'GradientDescentMomentum': {
      const lr = optNum(d, 'learningRate');
      if (lr === null) throw new TlError(`optimizer description ${JSON.stringify(d)}: learningRate is missing`);
      const sched = d.schedule;
      if (sched !== undefined && sched !== null && !(isObject(sched) && typeof sched.type === 'string')) {
        throw new TlError(`optimizer description: schedule must be a schedule description, got ${JSON.stringify(sched)}`);
      }
      return new GradientDescentMomentum(lr, {
        momentumCoef: optNum(d, 'momentumCoef') ?? 0,
        wdecay: optNum(d, 'wdecay') ?? 0,
        nesterov: d.nesterov === true,
        gradientClipNorm: optNum(d, 'gradientClipNorm'),
        gradientClipValue: optNum(d, 'gradientClipValue'),
        paramClipValue: optNum(d, 'paramClipValue'),
        ...(isObject(sched ?? null) ? { schedule: scheduleFromDescription(sched as ScheduleDescription) } : {}),
        name,
      });
    }
    case 'MultiOptimizer': {
      const mapping = d.mapping;
      if (!isObject(mapping)) throw new TlError(`optimizer description: MultiOptimizer needs a mapping object, got ${JSON.stringify(mapping)}`);
      const m: Record<string, Optimizer> = {};
      for (const [k, sub] of Object.entries(mapping)) {
        if (!isObject(sub) || typeof sub.type !== 'string') throw new TlError(`optimizer description: mapping['${k}'] is not an optimizer description`);
        m[k] = optimizerFromDescription(sub as OptimizerDescription);
      }
      return new MultiOptimizer(m, { name });
    }
    default:
      throw new TlError(`unknown optimizer type ${JSON.stringify(d.type)} (expected GradientDescentMomentum or MultiOptimizer)`);
  }
}
