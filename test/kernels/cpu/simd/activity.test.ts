// How busy the fast backend's threads are (src/kernels/cpu/simd/activity.ts): the span
// arithmetic on made-up spans, and the counters of real jobs: bounded by the wall time, both
// threads busy in a job that splits, still while recording is off.
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, getNumThreads, setNumThreads } from '../../../../src/kernels/index.js';
import type { Backend } from '../../../../src/kernels/backend.js';
import { Activity, now } from '../../../../src/kernels/cpu/simd/activity.js';
import { Generator } from '../../../../src/index.js';

const fast: Backend = getBackend('cpu');
const defaultThreads = getNumThreads();
afterAll(() => {
  setNumThreads(defaultThreads);
  fast.threadActivity!.recording = false;
});

function values(n: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.uniform(-1, 1));
}

describe('thread activity: the span arithmetic', () => {
  it('all busy is the overlap of every thread\'s span; helpers\' busy time and the calling thread\'s wait add up', () => {
    const a = new Activity();
    // job tagged 7: calling thread 10..30; helper 0 12..28; helper 1 15..35; every task done at 36
    a.open(7, 2);
    a.spans.set([7, 12, 28, 7, 15, 35]);
    a.job(7, 10, 30, 36, 2, 3);
    expect(a.allBusyMs).toBe(13); // 15..28
    expect(a.helperBusyMs).toBe(16 + 20);
    expect(a.waitMs).toBe(6);
  });

  it('a job in which a thread of the pool took no task, or which ran on the calling thread alone, has no all-busy time', () => {
    const a = new Activity();
    a.spans.set([5, 0, 10]); // helper 0's span in the job tagged 5
    a.open(6, 1); // job 6: it has taken no task of it yet
    a.job(6, 0, 10, 10, 1, 2);
    expect(a.allBusyMs).toBe(0);
    expect(a.helperBusyMs).toBe(0);
    a.spans.set([6, 0, 10]);
    a.job(5, 0, 10, 12, 1, 2); // a span of another job is not this job's
    expect(a.helperBusyMs).toBe(0);
    a.job(6, 0, 10, 12, 0, 2); // a pool of 2 whose job used one thread
    a.solo(0, 10, 2);
    expect(a.allBusyMs).toBe(0);
    a.solo(0, 10, 1); // a pool of one thread: its work is all of it
    expect(a.allBusyMs).toBe(10);
  });

  it('spans that do not overlap add nothing', () => {
    const a = new Activity();
    a.spans.set([3, 20, 25]);
    a.job(3, 0, 10, 25, 1, 2);
    expect(a.allBusyMs).toBe(0);
    expect(a.helperBusyMs).toBe(5);
    expect(a.waitMs).toBe(15);
  });

  it('the clock is monotonic and in milliseconds', () => {
    const t0 = now();
    const end = Date.now() + 20;
    while (Date.now() < end) { /* spin 20 ms */ }
    const dt = now() - t0;
    expect(dt).toBeGreaterThanOrEqual(15);
    expect(dt).toBeLessThan(2000);
  });
});

describe('thread activity: counters of the fast backend', () => {
  const act = fast.threadActivity!;
  const M = 384, n = M * M;
  const A = fast.upload(values(n, 1)), B = fast.upload(values(n, 2)), C = fast.alloc('float32', n);
  const gemm = () => fast.gemm(false, false, M, M, M, 1, A, 0, M, B, 0, M, 0, C, 0, M);

  it('the backend says it has threads, and counts nothing while recording is off', () => {
    setNumThreads(2);
    expect(act.threads).toBe(2);
    act.recording = false;
    const c0 = act.read();
    gemm();
    expect(act.read()).toEqual(c0);
  });

  for (const threads of [2, 3]) {
    // More threads than cores: a thread may find every task taken when it wakes, in every job
    const allMeet = threads <= availableParallelism();
    it(`over split gemms on ${threads} threads: all busy ≤ wall time, helpers' busy ≤ (threads − 1) × wall, wait ≤ wall${allMeet ? ', and all threads busy at some point' : ''}`, () => {
      setNumThreads(threads);
      gemm(); // starts the helpers
      act.recording = true;
      const c0 = act.read();
      const t0 = now();
      for (let i = 0; i < 8; i++) gemm();
      const wall = now() - t0;
      act.recording = false;
      const c = act.read();
      const all = c.allBusyMs - c0.allBusyMs, helpers = c.helperBusyMs - c0.helperBusyMs, wait = c.waitMs - c0.waitMs;
      if (allMeet) expect(all).toBeGreaterThan(0);
      expect(all).toBeGreaterThanOrEqual(0);
      expect(all).toBeLessThanOrEqual(wall);
      expect(helpers).toBeGreaterThan(0);
      expect(helpers).toBeLessThanOrEqual((threads - 1) * wall);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(wall);
    }, 60_000);
  }

  it('on one thread every job is the whole pool: all busy is the jobs\' time, no helper, no wait', () => {
    setNumThreads(1);
    act.recording = true;
    const c0 = act.read();
    const t0 = now();
    gemm();
    const wall = now() - t0;
    act.recording = false;
    const c = act.read();
    expect(c.allBusyMs - c0.allBusyMs).toBeGreaterThan(0);
    expect(c.allBusyMs - c0.allBusyMs).toBeLessThanOrEqual(wall);
    expect(c.helperBusyMs).toBe(c0.helperBusyMs);
    expect(c.waitMs).toBe(c0.waitMs);
  });
});
