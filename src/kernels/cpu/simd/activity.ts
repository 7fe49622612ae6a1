// How busy the fast backend's threads are: the profile's "all threads busy" share
// (src/models/profile.ts). Off unless a profile records; then each job of the pool
// (pool.ts) leaves one busy span per thread in shared memory: the calling thread's from
// its first task to the end of its last, each helper's likewise (a helper that found no
// task left writes none). Within a job a thread takes its tasks back to back, so one span
// per thread is its whole computing time in that job. After the job, the calling thread
// adds up:
//   - all-busy time: the span every thread of the pool computes at once (the latest start
//     to the earliest end), zero where fewer threads than the pool's took part (a job too
//     small to split, or one that ran on the calling thread alone);
//   - helpers' busy time: the sum of the helpers' spans;
//   - waiting time: the calling thread's wait for the helpers after its own last task.
// Outside jobs the calling thread runs alone (JavaScript, the reference's kernels), which
// is one thread busy and the others idle: so over any window of W ms on the calling
// thread, threads compute on average (W − waiting + helpers' busy) / W.
// Times are on a clock every thread of the process shares (monotonic in Node), in ms.

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
export const MAX_THREADS = 64;

export class Activity implements ActivityCounters {
  /** [start, end] of each thread's span in the job that runs: slot 0 the calling thread, 1 + w helper w; start < 0: no task. */
  readonly spans = new Float64Array(new SharedArrayBuffer(8 * 2 * MAX_THREADS));
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
   * A job run on the calling thread (its tasks from start to mainEnd) and helpers 0 ..
   * helpers−1 (their spans in `spans`), finished (every helper done) at `end`, in a pool
   * of `threads`.
   */
  job(start: number, mainEnd: number, end: number, helpers: number, threads: number): void {
    const s = this.spans;
    let latest = start, earliest = mainEnd, took = 1;
    for (let w = 0; w < helpers; w++) {
      const a = s[2 + 2 * w]!, b = s[3 + 2 * w]!;
      if (a < 0) continue;
      took++;
      this.helperBusyMs += b - a;
      if (a > latest) latest = a;
      if (b < earliest) earliest = b;
    }
    if (took >= threads && earliest > latest) this.allBusyMs += earliest - latest;
    this.waitMs += end - mainEnd;
  }

  /** The counters now (a copy). */
  read(): ActivityCounters {
    return { allBusyMs: this.allBusyMs, helperBusyMs: this.helperBusyMs, waitMs: this.waitMs };
  }
}

/** A helper's side: runs `body` (its tasks) and writes its span into slot 1 + index, or start −1 where it ran none. */
export function helperSpan(spans: Float64Array, index: number, timed: boolean, body: () => number): void {
  if (!timed) {
    body();
    return;
  }
  const t0 = now();
  let ran = 0;
  try {
    ran = body();
  } finally {
    // written even when a task threw, so that no span of an earlier job is read for this one
    spans[2 + 2 * index] = ran > 0 ? t0 : -1;
    spans[3 + 2 * index] = ran > 0 ? now() : -1;
  }
}
