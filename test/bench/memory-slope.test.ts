// Memory stays flat over a training run, per backend, each in a fresh process
// (bench/memory-slope.ts, the test's short version of `npm run bench -- memory-slope`): the
// least-squares slope of RSS after a full collection stays under a generous bound, and a
// leak of LEAK_KB a step, kept alive on purpose, goes over it (the test can fail).
// webgpu is measured by the bench only (`npm run bench -- memory-slope`): its steps are slow on
// llvmpipe, and Dawn's teardown at process exit has been seen to end the child by a signal
// under load after it had reported its samples.
import { describe, expect, it } from 'vitest';
import { slope, slopeInChild } from '../../bench/memory-slope.js';

/** MB per 100 steps: a flat run moves by a few MB at most over the samples. */
const BOUND = 8;
const LEAK_KB = 256; // 25 MB per 100 steps
// cpu's steps are cheap: as long a run as the bench's, whose samples start after a tenth of it,
// so that the growth of its first hundred steps or so (to a plateau) does not read as a slope
const STEPS: Record<string, number> = { cpu: 500, ref: 40, gpu: 40 };

describe('memory slope over training steps, a fresh process per backend', () => {
  for (const [backend, steps] of Object.entries(STEPS)) {
    it(`${backend}: RSS flat over ${steps} steps (slope under ${BOUND} MB per 100 steps)`, () => {
      const s = slopeInChild(backend, steps);
      const perHundred = slope(s.steps, s.rssMB) * 100;
      expect(perHundred, `RSS (MB) at steps ${s.steps.join(',')}: ${s.rssMB.map((m) => m.toFixed(1)).join(',')}`).toBeLessThan(BOUND);
      if (s.liveBuffers) expect(slope(s.steps, s.liveBuffers)).toBeLessThanOrEqual(0);
    }, 300_000);
  }
  it(`a leak of ${LEAK_KB} KB a step on cpu goes over the bound`, () => {
    const s = slopeInChild('cpu', STEPS.cpu!, { TL_BENCH_LEAK_KB: String(LEAK_KB) });
    expect(slope(s.steps, s.rssMB) * 100).toBeGreaterThan(BOUND);
  }, 300_000);
});
