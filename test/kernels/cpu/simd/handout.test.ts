// The hand-out of a job's tasks (src/kernels/cpu/simd/handout.ts): tasks are claimed once
// each, only by threads that read the current job, and counted done; a helper reading an old
// job's message takes nothing.
import { describe, expect, it } from 'vitest';
import { claim, DONE, jobTag, MAX_ROUND_TASKS, NEXT, openRound, taskDone } from '../../../../src/kernels/cpu/simd/handout.js';

const ctrl = () => new Int32Array(new SharedArrayBuffer(4 * 16));

describe('task hand-out', () => {
  it('claims each task of the current round once, in order, then none', () => {
    const c = ctrl(), tag = jobTag(3);
    openRound(c, tag);
    expect([0, 1, 2, 3].map(() => claim(c, tag, 3))).toEqual([0, 1, 2, -1]);
    expect(claim(c, tag, 3)).toBe(-1);
  });

  it('a thread holding another round\'s message takes no task of this one, and leaves the counter as it was', () => {
    const c = ctrl();
    openRound(c, jobTag(4));
    expect(claim(c, jobTag(4), 5)).toBe(0);
    const before = Atomics.load(c, NEXT);
    expect(claim(c, jobTag(3), 5)).toBe(-1); // an old job
    expect(claim(c, jobTag(5), 5)).toBe(-1);
    expect(Atomics.load(c, NEXT)).toBe(before);
    expect(claim(c, jobTag(4), 5)).toBe(1);
  });

  it('tags differ from one round to the next, wrap after 32768, and leave room for the largest round', () => {
    expect(jobTag(1)).not.toBe(jobTag(2));
    expect(jobTag(32768 + 1)).toBe(jobTag(1));
    const c = ctrl(), tag = jobTag(32767);
    openRound(c, tag);
    Atomics.store(c, NEXT, tag | (MAX_ROUND_TASKS - 1));
    expect(claim(c, tag, MAX_ROUND_TASKS)).toBe(MAX_ROUND_TASKS - 1);
    expect(claim(c, tag, MAX_ROUND_TASKS)).toBe(-1);
    expect(Atomics.load(c, NEXT) >>> 16).toBe(32767);
  });

  it('counts tasks done from zero in each round', () => {
    const c = ctrl();
    openRound(c, jobTag(1));
    taskDone(c, 2);
    taskDone(c, 2);
    expect(Atomics.load(c, DONE)).toBe(2);
    openRound(c, jobTag(2));
    expect(Atomics.load(c, DONE)).toBe(0);
  });
});
