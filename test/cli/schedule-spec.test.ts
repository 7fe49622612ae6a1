// --schedule SPEC: each form is one of neon's schedule constructors, with its arguments in order.
import { describe, expect, it } from 'vitest';
import { parseScheduleSpec, sameSchedule, scheduleSpecOf } from '../../src/cli/schedule-spec.js';
import { ExpSchedule, PolySchedule, PowerSchedule, Schedule, StepSchedule } from '../../src/optim/index.js';
import { UsageError } from '../../src/util/errors.js';

describe('parseScheduleSpec', () => {
  it('maps each form onto one constructor, and back', () => {
    const cases: [string, { describe(): unknown }][] = [
      ['constant', new Schedule()],
      ['schedule:2,4:0.1', new Schedule([2, 4], 0.1)],
      ['schedule:3:0.5', new Schedule([3], 0.5)],
      ['step:1,5:0.01,0.001', new StepSchedule([1, 5], [0.01, 0.001])],
      ['power:10:0.5', new PowerSchedule(10, 0.5)],
      ['exp:0.1', new ExpSchedule(0.1)],
      ['poly:30:2', new PolySchedule(30, 2)],
    ];
    for (const [spec, schedule] of cases) {
      const d = parseScheduleSpec(spec);
      expect(d, spec).toEqual(schedule.describe());
      expect(scheduleSpecOf(d)).toBe(spec);
    }
  });
  it('compares by the rates a description gives (constant has several spellings)', () => {
    expect(sameSchedule(new Schedule([2], 1).describe(), parseScheduleSpec('constant'))).toBe(true);
    expect(sameSchedule(parseScheduleSpec('exp:0.1'), parseScheduleSpec('exp:0.2'))).toBe(false);
  });
  it('refuses bad specs with a UsageError', () => {
    for (const spec of ['', 'step', 'step:1:', 'step:1,2:0.1', 'step:1:-1', 'schedule:1.5:0.1', 'schedule:1:0.1,0.2', 'power:2', 'power:-1:0.5', 'exp:-1', 'poly:0:1', 'constant:1']) {
      expect(() => parseScheduleSpec(spec), spec).toThrow(UsageError);
    }
  });
});
