import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ExpSchedule, PolySchedule, PowerSchedule, Schedule, StepSchedule, scheduleFromDescription, type LearningRateSchedule } from '../../src/optim/index.js';
import { TlError, UsageError } from '../../src/util/errors.js';

const lrs = (s: LearningRateSchedule, base: number, n: number): number[] => Array.from({ length: n }, (_, e) => s.getLearningRate(base, e));

describe('Schedule (neon/optimizers/optimizer.py)', () => {
  it('constant by default', () => {
    expect(lrs(new Schedule(), 0.01, 5)).toEqual([0.01, 0.01, 0.01, 0.01, 0.01]);
    expect(lrs(new Schedule(null, 0.5), 0.01, 3)).toEqual([0.01, 0.01, 0.01]);
  });

  it('list + scalar change: lr·change^(#steps passed)', () => {
    // steps at epochs 2 and 5, ×0.5 each
    expect(lrs(new Schedule([2, 5], 0.5), 1, 8)).toEqual([1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
    // ModelZoo VGG: range(14, 75, 15), ×0.1
    const s = new Schedule([14, 29, 44, 59, 74], 0.1);
    expect(s.getLearningRate(0.01, 13)).toBe(0.01);
    expect(s.getLearningRate(0.01, 14)).toBe(0.01 * 0.1);
    expect(s.getLearningRate(0.01, 30)).toBe(0.01 * 0.1 ** 2);
  });

  it('int + change: lr·change^floor(epoch/step)', () => {
    expect(lrs(new Schedule(3, 0.5), 2, 8)).toEqual([2, 2, 2, 1, 1, 1, 0.5, 0.5]);
  });

  it('list + list: absolute values, remembered, base when a value is 0', () => {
    const s = new Schedule([2, 5], [0.3, 0]);
    expect(lrs(s, 0.01, 8)).toEqual([0.01, 0.01, 0.3, 0.3, 0.3, 0.01, 0.01, 0.01]);
    // state round trip: after epoch 2 a fresh schedule resumes at 0.3
    const a = new Schedule([2, 5], [0.3, 0]);
    a.getLearningRate(0.01, 2);
    const b = new Schedule([2, 5], [0.3, 0]);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(b.getLearningRate(0.01, 3)).toBe(0.3);
  });

  it('rejects bad arguments', () => {
    expect(() => new Schedule([1, 2], [0.1])).toThrow(UsageError);
    expect(() => new Schedule(2, [0.1])).toThrow(UsageError);
    expect(() => new Schedule(0, 0.1)).toThrow(UsageError);
    expect(() => new Schedule([-1], 0.1)).toThrow(UsageError);
    expect(() => new Schedule().getLearningRate(1, -1)).toThrow(UsageError);
    expect(() => new Schedule().getLearningRate(1, 1.5)).toThrow(/non-negative integer/);
  });
});

describe('StepSchedule', () => {
  it('absolute values at step epochs, base before the first step', () => {
    expect(lrs(new StepSchedule([2, 4], [0.05, 0.01]), 0.1, 7)).toEqual([0.1, 0.1, 0.05, 0.05, 0.01, 0.01, 0.01]);
  });

  it('is stateful: a fresh schedule that never saw the step epoch returns the base LR (as neon after a resume)', () => {
    const fresh = new StepSchedule([2, 4], [0.05, 0.01]);
    expect(fresh.getLearningRate(0.1, 3)).toBe(0.1);
    expect(fresh.getLearningRate(0.1, 4)).toBe(0.01);
    expect(fresh.getLearningRate(0.1, 9)).toBe(0.01);
  });

  it('state round-trips through JSON, so resume is exact (beyond neon)', () => {
    const a = new StepSchedule([2, 4], [0.05, 0.01]);
    for (let e = 0; e <= 2; e++) a.getLearningRate(0.1, e);
    const saved = JSON.parse(JSON.stringify(a.getState()));
    expect(saved).toEqual({ steps: 0.05 });
    const b = new StepSchedule([2, 4], [0.05, 0.01]);
    b.setState(saved);
    expect([3, 4, 5].map((e) => b.getLearningRate(0.1, e))).toEqual([0.05, 0.01, 0.01]);
    expect([3, 4, 5].map((e) => a.getLearningRate(0.1, e))).toEqual([0.05, 0.01, 0.01]);
    expect(() => b.setState({ nope: 1 })).toThrow(TlError);
  });

  it('a change value of 0 means the base LR; duplicated epochs use the first entry (list.index)', () => {
    expect(lrs(new StepSchedule([1, 3], [0.5, 0]), 0.1, 5)).toEqual([0.1, 0.5, 0.5, 0.1, 0.1]);
    expect(new StepSchedule([1, 1], [0.5, 0.7]).getLearningRate(0.1, 1)).toBe(0.5);
  });

  it('peekLearningRate does not change the state', () => {
    const s = new StepSchedule([2], [0.05]);
    expect(s.peekLearningRate(0.1, 2)).toBe(0.05);
    expect(s.getState()).toEqual({ steps: 0 });
    expect(s.getLearningRate(0.1, 3)).toBe(0.1);
  });

  it('rejects mismatched lists', () => {
    expect(() => new StepSchedule([1, 2], [0.1])).toThrow(/same length/);
  });
});

describe('PowerSchedule, ExpSchedule, PolySchedule', () => {
  it('PowerSchedule: lr·change^floor(epoch/step)', () => {
    expect(lrs(new PowerSchedule(2, 0.5), 1, 6)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(() => new PowerSchedule(0, 0.5)).toThrow(UsageError);
  });

  it('ExpSchedule: lr/(1 + decay·epoch)', () => {
    expect(lrs(new ExpSchedule(0.5), 3, 5)).toEqual([3, 2, 1.5, 1.2, 1]);
  });

  it('PolySchedule: lr·(1 − epoch // total)^power, integer division as neon', () => {
    expect(lrs(new PolySchedule(3, 2), 0.1, 9)).toEqual([0.1, 0.1, 0.1, 0, 0, 0, 0.1, 0.1, 0.1]);
    expect(new PolySchedule(3, 0.5).getLearningRate(0.1, 6)).toBeNaN();
  });

  it('property: each stateless schedule equals its formula', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 10, noNaN: true }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 20 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (lr, e, step, ch) => {
        expect(new PowerSchedule(step, ch).getLearningRate(lr, e)).toBe(lr * Math.pow(ch, Math.floor(e / step)));
        expect(new Schedule(step, ch).getLearningRate(lr, e)).toBe(lr * Math.pow(ch, Math.floor(e / step)));
        expect(new ExpSchedule(ch).getLearningRate(lr, e)).toBe(lr / (1 + ch * e));
      }),
    );
  });

  it('describe → scheduleFromDescription rebuilds an equivalent schedule', () => {
    const all: LearningRateSchedule[] = [new Schedule(), new Schedule([2, 5], 0.5), new Schedule(3, 0.5), new Schedule([2], [0.3]), new StepSchedule([2, 4], [0.05, 0.01]), new PowerSchedule(2, 0.5), new ExpSchedule(0.5), new PolySchedule(3, 2)];
    for (const s of all) {
      const d = JSON.parse(JSON.stringify(s.describe()));
      const t = scheduleFromDescription(d);
      expect(t.describe()).toEqual(s.describe());
      expect(lrs(t, 0.1, 8)).toEqual(lrs(s, 0.1, 8));
    }
    expect(() => scheduleFromDescription({ type: 'Cosine' })).toThrow(TlError);
  });
});
