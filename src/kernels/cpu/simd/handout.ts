// How the threads of a pool (pool.ts in Node, src/browser/simd-pool.ts in a page) share a
// job's tasks: each claims the next task index from one shared word and counts the task
// done when it is finished; the calling thread waits until the job's every task is done,
// not until every helper has reported. So a helper whose core is busy elsewhere (another
// process) and wakes after the calling thread has taken the last task costs nothing: it
// finds no task of that job and goes back to sleep, while the calling thread has long
// gone on. (Waiting for each helper's report would leave the calling thread idle until
// the slowest helper is scheduled, on every job.)
//
// For that, the word tells the jobs apart: NEXT holds (tag | i), tag the job's sequence
// number in the high bits and i the next task index in the low 16, and a thread takes task
// i only by a compare-and-swap that leaves the tag as it found it. A helper that reads an
// old job's message (it slept through that job) sees another tag and takes nothing; it
// reads every message waiting on its port, the old ones first. A job of more than 65535
// tasks is run in rounds of at most that many (the pools' run).
//
// Shared control words (Int32Array over a SharedArrayBuffer), the same in both pools:
//   NEXT   the job's tag and next task index      DONE   tasks of the job finished
//   ERROR  set by a helper whose task threw
import type { SimdInstance } from './simd.js';
import { runTask, type Job } from './tasks.js';
import { now } from './activity.js';

export const NEXT = 0, DONE = 1, ERROR = 2;
/** Tasks of one round at most (the low 16 bits of NEXT). */
export const MAX_ROUND_TASKS = 0xffff;
const TAG_SHIFT = 16, SEQ_MASK = 0x7fff;

/** The tag of job number seq (15 bits of it: a helper would have to sleep through 32768 jobs to mistake one for another). */
export function jobTag(seq: number): number {
  return (seq & SEQ_MASK) << TAG_SHIFT;
}

/** Claims the next task of the job tagged `tag` (of `count` tasks); −1 when none is left or the word belongs to another job. */
export function claim(ctrl: Int32Array, tag: number, count: number): number {
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if ((v & ~MAX_ROUND_TASKS) !== tag) return -1;
    const i = v & MAX_ROUND_TASKS;
    if (i >= count) return -1;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) === v) return i;
  }
}

/** Starts a round: its tag in NEXT with task 0 next, nothing done, no error. */
export function openRound(ctrl: Int32Array, tag: number): void {
  Atomics.store(ctrl, DONE, 0);
  Atomics.store(ctrl, ERROR, 0);
  Atomics.store(ctrl, NEXT, tag);
}

/** Counts one task of a round of `count` done; the last one wakes the calling thread. */
export function taskDone(ctrl: Int32Array, count: number): void {
  if (Atomics.add(ctrl, DONE, 1) + 1 === count) Atomics.notify(ctrl, DONE);
}

/** A round as a helper receives it: tasks base + i for i < count of the job tagged `tag`; timed: write a busy span (activity.ts). */
export interface RoundMessage {
  job: Job;
  base: number;
  count: number;
  tag: number;
  timed: boolean;
}

/**
 * A helper's part of a round: claims and runs tasks until none is left, counting each done.
 * With timed, writes its span (tag, first task's start, last task's end) into its slot of
 * `spans` before counting each task done, so the calling thread reads it complete. A task
 * that throws is reported (report: before it counts as done, so that the calling thread
 * finds the report once the round is done) and ends this helper's part (the other threads
 * finish the round). Returns how many tasks it ran.
 */
export function helperRound(
  inst: SimdInstance, ctrl: Int32Array, spans: Float64Array, slot: number, m: RoundMessage, report: (error: string) => void,
  /** A control word counting the tasks helpers ran (the page's, for tests), bumped before each task counts as done; −1: none. */
  tasksWord = -1,
): number {
  let ran = 0;
  for (let i = claim(ctrl, m.tag, m.count); i >= 0; i = claim(ctrl, m.tag, m.count)) {
    if (m.timed && ran === 0) {
      spans[3 * slot] = m.tag;
      spans[3 * slot + 1] = now();
    }
    let failed = false;
    try {
      runTask(inst, m.job, m.base + i);
    } catch (e) {
      failed = true;
      report(e instanceof Error ? e.message : String(e));
      Atomics.store(ctrl, ERROR, 1);
    }
    ran++;
    if (m.timed) spans[3 * slot + 2] = now();
    if (tasksWord >= 0) Atomics.add(ctrl, tasksWord, 1);
    taskDone(ctrl, m.count);
    if (failed) break;
  }
  return ran;
}
