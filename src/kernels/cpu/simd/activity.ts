// How busy the fast backend's threads are: the profile's "all threads busy" share
// (src/models/profile.ts). Off unless a profile records; then each job of the pool
// (pool.ts) leaves one busy span per thread: the calling thread's from its first task to
// the end of its last, each helper's likewise in shared memory, tagged with the job
// (handout.ts; a helper that found no task of the job writes none). Within a job a thread takes its tasks back to back, so one span
// per thread is its whole computing time in that job. After the job, the calling thread
// adds up:
//   - all-busy time: the span every thread of the pool computes at once (the latest start
//     to the earliest end), zero where fewer threads than the pool's took part (a job too
//     small to split, or one that ran on the calling thread alone);
//   - helpers' busy time: the sum of the helpers' spans;
//   - waiting time: the calling thread's wait for the helpers' last tasks after its own.
// Outside jobs the calling thread runs alone (JavaScript, the reference's kernels), which
// is one thread busy and the others idle: so over any window of W ms on the calling
// thread, threads compute on average (W − waiting + helpers' busy) / W.
// Times are on a clock every thread of the process shares (monotonic in Node), in ms. A
// span is wall time: a thread that the system takes off its core inside a task (another
// process wanting it) still counts as computing; a helper that wakes late shows as the
// calling thread computing alone (or waiting, for the helper's last task).

/** Milliseconds on a monotonic clock common to all threads of this process. */
export const now: () => number = (() => {
  const hr = (globalThis as { process?: { hrtime?: { bigint?: () => bigint } } }).process?.hrtime;
  if (hr && typeof hr === 'function') {
    const h = hr as unknown as (prev?: [number, number]) => [number, number];
    return () => {
      const [s, ns] = h();
      return s * 1e3 + ns / 1e6;
    };
  }
  // a page: performance.now() counts from each thread's own origin; their sum is common
  return () => performance.timeOrigin + performance.now();
})();

/** Cumulative counters of a pool's activity, ms (see the file's comment). */
export interface ActivityCounters {
  allBusyMs: number;
  helperBusyMs: number;
  waitMs: number;
}

/** Threads of one pool at most (the calling thread and 63 helpers). */
const MAX_THREADS = 64;

export class Activity implements ActivityCounters {
  /** [tag, start, end] of helper w's span at 3·w: its span in the job tagged `tag` (handout.ts), else in an earlier one. */
  readonly spans = new Float64Array(new SharedArrayBuffer(8 * 3 * MAX_THREADS));
  /** Whether jobs record their spans (the profile turns it on while attached). */
  recording = false;
  allBusyMs = 0;
  helperBusyMs = 0;
  waitMs = 0;

  /** A job that ran on the calling thread alone, from t0 to t1, in a pool of `threads`: all busy only where the pool has one thread. */
  solo(t0: number, t1: number, threads: number): void {
    if (threads === 1) this.allBusyMs += t1 - t0;
  }

  /**
   * A job tagged `tag` run on the calling thread (its tasks from start to mainEnd) and
   * helpers 0 .. helpers−1 (their spans in `spans`), every task done at `end`, in a pool
   * of `threads`.
   */
  job(tag: number, start: number, mainEnd: number, end: number, helpers: number, threads: number): void {
    const s = this.spans;
    let latest = start, earliest = mainEnd, took = 1;
    for (let w = 0; w < helpers; w++) {
      if (s[3 * w] !== tag) continue; // took no task of this job
      const a = s[3 * w + 1]!, b = s[3 * w + 2]!;
      took++;
      this.helperBusyMs += b - a;
      if (a > latest) latest = a;
      if (b < earliest) earliest = b;
    }
    if (took >= threads && earliest > latest) this.allBusyMs += earliest - latest;
    this.waitMs += end - mainEnd;
  }

  /** Marks helpers 0 .. helpers−1 as having no span in the job tagged `tag` yet (before the job is posted to them). */
  open(tag: number, helpers: number): void {
    for (let w = 0; w < helpers; w++) this.spans[3 * w] = -1 - tag;
  }

  /** The counters now (a copy). */
  read(): ActivityCounters {
    return { allBusyMs: this.allBusyMs, helperBusyMs: this.helperBusyMs, waitMs: this.waitMs };
  }
}
