/// <reference path="./webassembly.d.ts" />
// The thread pool behind the fast backend: `threads − 1` worker_threads plus the main
// thread, which the synchronous Backend interface keeps busy anyway.
//
// A parallel call is a job cut into `tasks` independent tasks (blocks of a gemm, groups of
// images of a convolution, ranges of an elementwise kernel). The main thread posts the job
// to the helpers it needs (its buffers are Float32Arrays over SharedArrayBuffers, so the
// message shares them rather than copying), wakes them, and then every thread, main
// included, takes the next task from an atomic counter until none is left: dynamic
// hand-out, so a thread whose core is busy with another process simply takes fewer tasks.
// The main thread then blocks in Atomics.wait (allowed on Node's main thread) until every
// helper has reported done. Helpers wait in Atomics.wait between jobs and read the job with
// receiveMessageOnPort: they never need their event loop, so a job starts in microseconds.
// Workers are unref'd: a finished program exits although they still exist.
//
// Shared control words (Int32Array over a SharedArrayBuffer):
//   NEXT  the next task index to take      DONE  helpers finished with this job
//   ERROR set by a helper whose task threw  READY helpers started
//   COLLECT  bumped by collect(): a helper that sees it changed collects garbage after its task
//   DEAD  helpers that have exited (a worker's exit handler bumps it and wakes the main
//         thread: a helper that dies mid-job would otherwise leave it waiting forever,
//         since the main thread blocked in Atomics.wait never sees the worker's 'exit' event)
//   WAKE + w: helper w's doorbell (1: a job is waiting on its port)
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { runTask, type Job } from './tasks.js';
import type { SimdInstance } from './simd.js';
import { collector } from './collect.js';
import { Activity, now } from './activity.js';
import { claim, DONE, ERROR, jobTag, MAX_ROUND_TASKS, NEXT, openRound, taskDone, type RoundMessage } from './handout.js';
import { BackendError } from '../../../util/errors.js';

export { DONE, ERROR, NEXT };
export const READY = 3, COLLECT = 4, DEAD = 5, WAKE = 8;
const MAX_HELPERS = 63;

interface Helper {
  worker: Worker;
  port: MessagePort;
}

/** Where the worker script is: next to this module once built; from the TypeScript sources (vitest) the built copy in dist/. */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL(import.meta.url.replace(/\/src\/kernels\/cpu\/simd\/pool\.ts$/, '/dist/src/kernels/cpu/simd/worker.js'));
  return built;
}

export class ThreadPool {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * (WAKE + MAX_HELPERS)));
  private readonly helpers: Helper[] = [];
  private threads: number;
  /** How busy the threads are, recorded while a profile asks (activity.ts). */
  readonly activity = new Activity();
  /** Rounds run so far (their tags: handout.ts). */
  private seq = 0;
  /** Set when workers could not start: everything then runs on the main thread. */
  private broken: string | null = null;

  constructor(private readonly main: SimdInstance, private readonly module: WebAssembly.Module, private readonly winograd: WebAssembly.Module) {
    this.threads = defaultThreads();
  }

  get numThreads(): number {
    return this.threads;
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of threads must be a positive integer, got ${n}`);
    this.threads = Math.min(n, MAX_HELPERS + 1);
  }

  /** Why threads are off, or null. */
  get unavailable(): string | null {
    return this.broken;
  }

  /**
   * Collects garbage on this thread now and on each helper after its next task, so that
   * shared buffers no longer used anywhere are freed (see collect.ts).
   */
  collect(): void {
    collector()?.();
    Atomics.add(this.ctrl, COLLECT, 1);
  }

  /** Runs tasks 0 .. tasks−1 of the job on up to `threads` threads (at most maxThreads); returns when all are done. */
  run(job: Job, tasks: number, maxThreads = this.threads): void {
    const want = Math.min(this.threads - 1, maxThreads - 1, tasks - 1);
    const helpers = want > 0 && this.broken === null ? this.start(want) : 0;
    const timed = this.activity.recording;
    if (helpers === 0) {
      const t0 = timed ? now() : 0;
      for (let t = 0; t < tasks; t++) runTask(this.main, job, t);
      if (timed) this.activity.solo(t0, now(), this.threads);
      return;
    }
    for (let base = 0; base < tasks; base += MAX_ROUND_TASKS) this.round(job, base, Math.min(MAX_ROUND_TASKS, tasks - base), helpers, timed);
  }

  /** Tasks base .. base + count − 1 of the job on this thread and `helpers` helpers; returns when all are done. */
  private round(job: Job, base: number, count: number, helpers: number, timed: boolean): void {
    const c = this.ctrl;
    const tag = jobTag(++this.seq);
    openRound(c, tag);
    if (timed) this.activity.open(tag, helpers);
    const msg: RoundMessage = { job, base, count, tag, timed };
    for (let w = 0; w < helpers; w++) {
      this.helpers[w]!.port.postMessage(msg);
      Atomics.store(c, WAKE + w, 1);
      Atomics.notify(c, WAKE + w);
    }
    let failure: unknown = null;
    const t0 = timed ? now() : 0;
    for (let i = claim(c, tag, count); i >= 0; i = claim(c, tag, count)) {
      try {
        runTask(this.main, job, base + i);
      } catch (e) {
        // finish the round with the helpers before throwing
        failure ??= e;
      }
      taskDone(c, count);
    }
    const mainEnd = timed ? now() : 0;
    for (let d = Atomics.load(c, DONE); d < count; d = Atomics.load(c, DONE)) {
      if (Atomics.load(c, DEAD) > 0) {
        // Its tasks are lost: this job's result is incomplete, and threads stay off from now on.
        this.broken = 'a worker thread exited during a job';
        throw new BackendError('fast backend: a worker thread exited in the middle of a computation, so its result is incomplete; run again (threads are off for the rest of this process), or with --threads 1');
      }
      Atomics.wait(c, DONE, d, 1000);
    }
    if (timed) this.activity.job(tag, t0, mainEnd, now(), helpers, this.threads);
    if (failure) throw failure;
    if (Atomics.load(c, ERROR)) {
      for (let w = 0; w < helpers; w++) {
        // the helper's report, past any left from an earlier job
        for (let m = receiveMessageOnPort(this.helpers[w]!.port); m; m = receiveMessageOnPort(this.helpers[w]!.port)) {
          const { error, tag: of } = m.message as { error: string; tag: number };
          if (of === tag) throw new Error(`fast backend worker: ${error}`);
        }
      }
      throw new Error('fast backend worker: a task failed');
    }
  }

  /** Makes sure `n` helpers run (starting them if needed); returns how many do. */
  private start(n: number): number {
    const c = this.ctrl;
    const have = this.helpers.length;
    if (have >= n) return n;
    try {
      const url = workerUrl();
      for (let w = have; w < n; w++) {
        const { port1, port2 } = new MessageChannel();
        // The workers run only our script: none of the main program's flags (--input-type,
        // --eval, --expose-gc, ...) is theirs, and Node refuses some of them in a worker.
        // (V8 flags such as relaxed SIMD are process-wide, and the module comes compiled.)
        const worker = new Worker(url, { workerData: { ctrl: c, index: w, port: port2, module: this.module, winograd: this.winograd, spans: this.activity.spans }, transferList: [port2], execArgv: [] });
        // A worker that dies (it cannot load, or runs out of memory) turns threading off rather than crashing the program.
        worker.on('error', (e) => {
          if (this.broken === null) console.warn(`tl-scratch: a worker thread failed (${e.message}): running on one thread`);
          this.broken ??= e.message;
        });
        worker.unref();
        port1.unref();
        this.helpers.push({ worker, port: port1 });
      }
      // Wait (bounded) for the new workers to come up: a worker that cannot start would
      // otherwise leave the main thread waiting for it forever.
      const deadline = Date.now() + 20_000;
      for (let r = Atomics.load(c, READY); r < n; r = Atomics.load(c, READY)) {
        if (Date.now() > deadline) throw new Error(`only ${r} of ${n} worker threads started within 20 s`);
        Atomics.wait(c, READY, r, 100);
      }
    } catch (e) {
      this.broken = `worker threads unavailable (${(e as Error).message}): running on one thread`;
      console.warn(`tl-scratch: ${this.broken}`);
      for (const h of this.helpers) void h.worker.terminate();
      this.helpers.length = 0;
      return 0;
    }
    return n;
  }
}

/** The default number of threads: the machine's logical cores. */
function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_HELPERS + 1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length));
}
