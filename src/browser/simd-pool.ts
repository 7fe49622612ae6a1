/// <reference path="../kernels/cpu/simd/webassembly.d.ts" />
// The fast backend's thread pool in a page: Web Workers in place of Node's worker_threads
// (scripts/build-browser.mjs swaps src/kernels/cpu/simd/pool.ts for this file), the same
// API and the same tasks (../kernels/cpu/simd/tasks.ts), so that `cpu` in a page runs the
// kernels it runs in Node.
//
// Two things differ from Node, and shape this file:
//   - A page's main thread may not block in Atomics.wait, and a Web Worker cannot start
//     while the thread that made it is busy (its start needs that thread's event loop).
//     So the workers are started ahead, asynchronously (startPageThreads, awaited by the
//     page before it computes); until they are up, jobs run on the calling thread alone.
//   - A worker has no receiveMessageOnPort: it gets each job as a message on its own event
//     loop, which is idle between jobs (the job's arrays are over SharedArrayBuffers, so the
//     message shares them). The calling thread claims tasks too (../kernels/cpu/simd/handout.ts), then
//     waits until every task is done (DONE): in Atomics.wait where the thread may block (a worker), else by polling
//     the word (a page's main thread: the helpers finish the job's last tasks within a few
//     task lengths, and nothing else would run on that thread meanwhile anyway).
// A task that throws in a helper sets ERROR and writes its message into shared memory (the
// calling thread reads no messages while it waits).
import { runTask, type Job } from '../kernels/cpu/simd/tasks.js';
import type { SimdInstance } from '../kernels/cpu/simd/simd.js';
import { BackendError } from '../util/errors.js';
import { Activity, now } from '../kernels/cpu/simd/activity.js';
import { claim, DONE, ERROR, jobTag, MAX_ROUND_TASKS, NEXT, openRound, taskDone, type RoundMessage } from '../kernels/cpu/simd/handout.js';

export { DONE, ERROR, NEXT };
export const READY = 3, COLLECT = 4, DEAD = 5, WAKE = 8;
/** ctrl words past WAKE: tasks the helpers have run (tests check the workers took part). */
export const HELPER_TASKS = 7;
const MAX_HELPERS = 63;
/** Bytes of shared memory for a helper's error message. */
const ERROR_BYTES = 1024;
/** How long the calling thread waits for helpers to finish a job before it gives up with a message. */
const JOB_TIMEOUT_MS = 120_000;

interface PageWorker {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(type: 'error', f: (e: { message?: string }) => void): void;
}

/** The pool the fast backend made (fastCpu makes one): startPageThreads starts its workers. */
let only: ThreadPool | null = null;

/** Whether this thread may block in Atomics.wait (a worker may; a page's main thread may not). */
const mayBlock = typeof (globalThis as { document?: unknown }).document === 'undefined';

export class ThreadPool {
  readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * (WAKE + MAX_HELPERS)));
  private readonly errorText = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  private readonly helpers: PageWorker[] = [];
  private threads: number;
  /** How busy the threads are, recorded while a profile asks (../kernels/cpu/simd/activity.ts). */
  readonly activity = new Activity();
  private broken: string | null = null;
  /** Rounds run so far (their tags: handout.ts). */
  private seq = 0;

  constructor(private readonly main: SimdInstance, private readonly module: WebAssembly.Module, private readonly winograd: WebAssembly.Module) {
    this.threads = defaultThreads();
    only = this;
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

  /** How many helper workers have started. */
  get started(): number {
    return this.helpers.length;
  }

  /** Tasks run by the helpers so far (the calling thread's are not counted). */
  get helperTasks(): number {
    return Atomics.load(this.ctrl, HELPER_TASKS);
  }

  /** The engine collects garbage in a page on its own (no gc function to call). */
  collect(): void {}

  run(job: Job, tasks: number, maxThreads = this.threads): void {
    const helpers = this.broken === null ? Math.min(this.threads - 1, maxThreads - 1, tasks - 1, this.helpers.length) : 0;
    const timed = this.activity.recording;
    if (helpers <= 0) {
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
    for (let w = 0; w < helpers; w++) this.helpers[w]!.postMessage(msg);
    let failure: unknown = null;
    const t0 = timed ? now() : 0;
    for (let i = claim(c, tag, count); i >= 0; i = claim(c, tag, count)) {
      try {
        runTask(this.main, job, base + i);
      } catch (e) {
        failure ??= e; // finish the round with the helpers first
      }
      taskDone(c, count);
    }
    const mainEnd = timed ? now() : 0;
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (let d = Atomics.load(c, DONE); d < count; d = Atomics.load(c, DONE)) {
      if (Date.now() > deadline) {
        this.broken = 'a worker did not finish its tasks';
        throw new BackendError(`fast backend: a Web Worker did not finish its part of a job within ${JOB_TIMEOUT_MS / 1000} s (it may have crashed); threads are off for the rest of this page: reload it`);
      }
      if (mayBlock) Atomics.wait(c, DONE, d, 100);
    }
    if (timed) this.activity.job(tag, t0, mainEnd, now(), helpers, this.threads);
    if (failure) throw failure;
    if (Atomics.load(c, ERROR)) {
      const n = this.errorText.indexOf(0);
      throw new Error(`fast backend worker: ${new TextDecoder().decode(this.errorText.slice(0, n < 0 ? ERROR_BYTES : n)) || 'a task failed'}`);
    }
  }

  /** Starts helpers up to `n` from `url` (the bundled simd-worker.js); resolves with how many run. */
  async start(n: number, url: URL): Promise<number> {
    const want = Math.min(n, MAX_HELPERS);
    const c = this.ctrl;
    const W = (globalThis as { Worker?: new (u: URL, o: object) => PageWorker }).Worker;
    if (!W) {
      this.broken = 'this runtime has no Web Workers';
      return 0;
    }
    const fresh: PageWorker[] = [];
    for (let w = this.helpers.length + fresh.length; w < want; w++) {
      const worker = new W(url, { type: 'module', name: `tl-scratch fast backend ${w + 1}` });
      worker.addEventListener('error', (e) => {
        this.broken ??= e.message ?? 'a worker failed';
        console.warn(`tl-scratch: a fast-backend worker failed (${this.broken}): running on one thread`);
      });
      worker.postMessage({ init: { ctrl: c, index: w, module: this.module, winograd: this.winograd, errorText: this.errorText, spans: this.activity.spans } });
      fresh.push(worker);
    }
    const target = this.helpers.length + fresh.length;
    const deadline = Date.now() + 20_000;
    while (Atomics.load(c, READY) < target) {
      if (this.broken !== null || Date.now() > deadline) {
        const why = this.broken ?? `only ${Atomics.load(c, READY)} of ${target} workers started within 20 s`;
        this.broken = why;
        console.warn(`tl-scratch: fast backend workers unavailable (${why}): running on one thread`);
        for (const f of fresh) f.terminate();
        return this.helpers.length;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    this.helpers.push(...fresh);
    return this.helpers.length;
  }
}

/**
 * Starts the fast backend's Web Workers (threads − 1 of them; default: the logical cores)
 * so that `cpu` runs on them; a page awaits it before it computes. Resolves with the
 * number of threads that run (1: no workers, or no fast backend: see fastUnavailable).
 */
export async function startPageThreads(url: URL, threads?: number): Promise<number> {
  if (!only) return 1;
  if (threads !== undefined) only.setThreads(threads);
  return 1 + (await only.start(only.numThreads - 1, url));
}

/** The page's pool, if the fast backend made one (tests read its counters). */
export function pagePool(): ThreadPool | null {
  return only;
}

/** The default number of threads: the browser's logical cores. */
function defaultThreads(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(MAX_HELPERS + 1, n));
}
