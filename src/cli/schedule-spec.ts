// --schedule SPEC: neon's learning-rate schedules (neon/optimizers/optimizer.py: Schedule,
// StepSchedule, PowerSchedule, ExpSchedule, PolySchedule; src/optim/schedule.ts) on the
// command line. Each form maps onto one constructor, with neon's arguments in neon's order;
// epochs are 0-based, as neon passes them to get_learning_rate:
//   constant                 Schedule()                      the base rate throughout
//   schedule:E1,E2,...:F     Schedule(step_config=[E1,...], change=F)
//                                                            ×F at each listed epoch (cumulative)
//   step:E1,E2,...:R1,R2,... StepSchedule(step_config=[E1,...], change=[R1,...])
//                                                            the rate becomes Ri from epoch Ei on
//   power:N:F                PowerSchedule(step_config=N, change=F)
//                                                            ×F every N epochs
//   exp:D                    ExpSchedule(decay=D)            lr / (1 + D·epoch)
//   poly:T:P                 PolySchedule(total_epochs=T, power=P)
//                                                            lr · (1 − epoch // T)^P
import { ExpSchedule, PolySchedule, PowerSchedule, Schedule, StepSchedule, type LearningRateSchedule, type ScheduleDescription } from '../optim/schedule.js';
import { TlError, UsageError } from '../util/errors.js';

/** The grammar, for --help. */
export const SCHEDULE_HELP =
  'learning-rate schedule (neon\'s, epochs 0-based): constant | schedule:E1,E2,..:F (×F at each epoch Ei, neon Schedule) | ' +
  'step:E1,E2,..:R1,R2,.. (rate Ri from epoch Ei, StepSchedule; imported layers get Ri × --imported_lr_scale) | ' +
  'power:N:F (×F every N epochs, PowerSchedule) | exp:D (lr/(1+D·epoch), ExpSchedule) | poly:T:P (lr·(1−epoch//T)^P, PolySchedule); ' +
  'e.g. schedule:2,4:0.1 (×0.1 from the 3rd epoch, ×0.01 from the 5th); -v prints each epoch\'s rate. Stored in checkpoints: resuming with --model_file continues it';

const SCHEDULE_FORMS = ['constant', 'schedule:E1,E2,...:F', 'step:E1,E2,...:R1,R2,...', 'power:N:F', 'exp:D', 'poly:T:P'];

function bad(spec: string, why: string): UsageError {
  return new UsageError(`--schedule '${spec}': ${why}; the forms are ${SCHEDULE_FORMS.join(' | ')} (see train --help)`);
}

function number(spec: string, s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(n)) throw bad(spec, `${what} must be a number, got '${s ?? ''}'`);
  return n;
}

function epochs(spec: string, s: string | undefined): number[] {
  if (s === undefined || s.trim() === '') throw bad(spec, 'the list of epochs is missing');
  return s.split(',').map((e) => {
    const n = Number(e);
    if (e.trim() === '' || !Number.isInteger(n) || n < 0) throw bad(spec, `epochs must be integers ≥ 0 (0-based), got '${e}'`);
    return n;
  });
}

function positiveInt(spec: string, s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isInteger(n) || n < 1) throw bad(spec, `${what} must be an integer ≥ 1, got '${s ?? ''}'`);
  return n;
}

/** Parse a --schedule spec into the schedule's description (what checkpoints store). */
export function parseScheduleSpec(spec: string): ScheduleDescription {
  const parts = spec.trim().split(':');
  const [kind, ...args] = parts;
  const nargs: Record<string, number> = { constant: 0, schedule: 2, step: 2, power: 2, exp: 1, poly: 2 };
  if (!kind || !(kind in nargs)) throw bad(spec, `unknown kind '${kind ?? ''}'`);
  if (args.length !== nargs[kind]) throw bad(spec, `${kind} takes ${nargs[kind]} argument${nargs[kind] === 1 ? '' : 's'} after '${kind}:', separated by ':' (got ${args.length})`);
  let s: LearningRateSchedule;
  switch (kind) {
    case 'constant':
      s = new Schedule();
      break;
    case 'schedule': {
      const e = epochs(spec, args[0]);
      if (args[1]!.includes(',')) throw bad(spec, `schedule multiplies by one factor F at every listed epoch; for a rate per epoch use step:${args[0]}:${args[1]}`);
      s = new Schedule(e, number(spec, args[1], 'the factor F'));
      break;
    }
    case 'step': {
      const e = epochs(spec, args[0]);
      const rates = args[1]!.split(',').map((r) => number(spec, r, 'each rate'));
      if (rates.length !== e.length) {
        throw bad(spec, `step needs one rate per epoch (${e.length} epoch${e.length === 1 ? '' : 's'}, ${rates.length} rate${rates.length === 1 ? '' : 's'})${rates.length === 1 ? `; to multiply the rate by ${args[1]} at each epoch use schedule:${args[0]}:${args[1]}` : ''}`);
      }
      if (rates.some((r) => r < 0)) throw bad(spec, 'rates must be ≥ 0');
      s = new StepSchedule(e, rates);
      break;
    }
    case 'power':
      s = new PowerSchedule(positiveInt(spec, args[0], 'the step N'), number(spec, args[1], 'the factor F'));
      break;
    case 'exp': {
      const d = number(spec, args[0], 'the decay D');
      if (d < 0) throw bad(spec, `the decay D must be ≥ 0, got ${d}`);
      s = new ExpSchedule(d);
      break;
    }
    default:
      s = new PolySchedule(positiveInt(spec, args[0], 'total epochs T'), number(spec, args[1], 'the power P'));
  }
  return s.describe();
}

/** A description back as a --schedule spec (for messages); neon's other Schedule forms are named as such. */
export function scheduleSpecOf(d: ScheduleDescription): string {
  const list = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));
  switch (d.type) {
    case 'Schedule':
      if (d.stepConfig === null || d.stepConfig === undefined || d.change === 1) return 'constant';
      if (Array.isArray(d.stepConfig) && !Array.isArray(d.change)) return `schedule:${list(d.stepConfig)}:${String(d.change)}`;
      return `Schedule(${JSON.stringify(d.stepConfig)}, ${JSON.stringify(d.change)})`;
    case 'StepSchedule':
      return `step:${list(d.stepConfig)}:${list(d.change)}`;
    case 'PowerSchedule':
      return `power:${String(d.stepConfig)}:${String(d.change)}`;
    case 'ExpSchedule':
      return `exp:${String(d.decay)}`;
    case 'PolySchedule':
      return `poly:${String(d.totalEpochs)}:${String(d.power)}`;
    default:
      throw new TlError(`unknown schedule type ${JSON.stringify(d.type)}`);
  }
}

/** Whether two descriptions give the same rates (constant has several spellings). */
export function sameSchedule(a: ScheduleDescription, b: ScheduleDescription): boolean {
  return scheduleSpecOf(a) === scheduleSpecOf(b);
}
