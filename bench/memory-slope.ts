// Memory over a long run, per backend: a small model (VGG-16 width 1/16, fc 16, 3×32×32,
// batch 4, SGD momentum) trained for STEPS steps in a fresh process per backend (`cpu`, `ref`,
// `gpu` (gpu.js), `webgpu` where it starts), sampling RSS (and the live GPU buffers: gpu.js
// textures, webgpu buffers) every few steps after a warm-up. The slope of a least-squares
// line through the samples, per 100 steps, is the figure: flat is near 0; a leak of one
// activation-sized buffer a step shows as tens of KB per step. Not a timing.
//
// `node dist/bench/memory-slope.js BACKEND STEPS` runs one backend and prints its samples as
// JSON (used by the bench and by test/bench/memory-slope.test.ts). TL_BENCH_LEAK_KB=N keeps
// N KB more per step alive (a leak on purpose: the test's proof that the slope catches one).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { setBackend } from '../src/kernels/index.js';
import { gpuDevice } from '../src/kernels/gpu/webgl/buffers.js';
import { webgpuStats, webgpuUnavailable } from '../src/kernels/gpu/webgpu/index.js';
import type { Benchmark, Row } from './harness.js';
import { randomBatch, trainingStep } from './model-step.js';

const IN_SHAPE = [3, 32, 32] as const, BSZ = 4;
/** What TL_BENCH_LEAK_KB keeps alive (module scope: reachable to the end of the run). */
const leaked: Float64Array[] = [];

export interface SlopeSamples {
  backend: string;
  steps: number[];
  rssMB: number[];
  /** Live buffers on GPU backends (gpu.js textures, webgpu buffers); absent on the CPU ones. */
  liveBuffers?: number[];
}

/** Least-squares slope of y over x. */
export function slope(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/**
 * Train `steps` steps on `backend` in this process; sample after a warm-up of a tenth of them
 * (at least 10). Each step ends with a turn of the event loop, as Model.fit's minibatches do:
 * the GPU backends hand a dropped tensor's buffer back from a FinalizationRegistry callback,
 * which runs only between tasks, so a loop that never yields keeps every step's buffers.
 */
async function sampleRun(backend: string, steps: number): Promise<SlopeSamples> {
  setBackend(backend);
  const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, IN_SHAPE, randomBatch(BSZ, IN_SHAPE, 2, 1));
  const leakKB = Number(process.env.TL_BENCH_LEAK_KB ?? 0);
  const warm = Math.max(10, Math.round(steps / 10)), every = Math.max(1, Math.round(steps / 50));
  const out: SlopeSamples = { backend, steps: [], rssMB: [], ...(backend === 'gpu' || backend === 'webgpu' ? { liveBuffers: [] } : {}) };
  for (let i = 1; i <= steps; i++) {
    step();
    await new Promise((resolve) => setImmediate(resolve));
    if (leakKB > 0) leaked.push(new Float64Array((leakKB * 1024) / 8).fill(i));
    if (i >= warm && (i - warm) % every === 0) {
      // a full collection first (the child runs with --expose-gc): what is left is what is kept
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((resolve) => setImmediate(resolve)); // the finalizers of what gc() found
      out.steps.push(i);
      out.rssMB.push(process.memoryUsage().rss / 2 ** 20);
      if (backend === 'gpu') out.liveBuffers!.push(gpuDevice().liveTextures);
      if (backend === 'webgpu') out.liveBuffers!.push(webgpuStats().buffers);
    }
  }
  return out;
}

/** One backend's samples from a fresh process (its own heap, threads and device). */
export function slopeInChild(backend: string, steps: number, env: Record<string, string> = {}): SlopeSamples {
  // the compiled file, also when this module runs from source (vitest)
  const self = fileURLToPath(import.meta.url).replace(/[/\\]bench[/\\]memory-slope\.ts$/, '/dist/bench/memory-slope.js');
  const r = spawnSync(process.execPath, ['--expose-gc', self, backend, String(steps)], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`memory-slope ${backend}: exit ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line) as SlopeSamples;
}

/** The backends this machine runs: webgpu only where it starts. */
export function slopeBackends(): string[] {
  return ['cpu', 'ref', 'gpu', ...(webgpuUnavailable() === null ? ['webgpu'] : [])];
}

const STEPS = 500;

export const memorySlopeBench: Benchmark = {
  name: 'memory-slope',
  ids: [],
  optIn: true,
  title: `memory slope over ${STEPS} training steps of a small model (VGG-16 width 1/16, fc 16, 3×32×32, batch ${BSZ}), each backend in a fresh process`,
  async run(log) {
    const rows: Row[] = [];
    const runs: SlopeSamples[] = [];
    for (const b of slopeBackends()) {
      try {
        runs.push(slopeInChild(b, STEPS));
      } catch (e) {
        log(`  ${b}: no figure: ${(e as Error).message}`);
      }
    }
    const cpu = runs.find((r) => r.backend === 'cpu')!;
    const cpuSlope = slope(cpu.steps, cpu.rssMB) * 100 * 1024;
    for (const r of runs) {
      const s = slope(r.steps, r.rssMB) * 100 * 1024;
      log(`  ${r.backend}: RSS ${r.rssMB[0]!.toFixed(0)} → ${r.rssMB.at(-1)!.toFixed(0)} MB from step ${r.steps[0]} to ${r.steps.at(-1)}`);
      rows.push({ workload: `RSS slope, ${r.backend}, steps ${r.steps[0]}→${r.steps.at(-1)}`, unit: 'KB/100 steps', ours: s, peer: 'cpu backend', peerValue: cpuSlope, note: 'least-squares slope of RSS; flat: near 0 (garbage collection moves RSS by a few MB either way)' });
      if (r.liveBuffers) {
        rows.push({ workload: `live GPU buffers slope, ${r.backend}`, unit: 'buffers/100 steps', ours: slope(r.steps, r.liveBuffers) * 100, peer: `live at step ${r.steps[0]}`, peerValue: r.liveBuffers[0]!, note: `live at the last step: ${r.liveBuffers.at(-1)}` });
      }
    }
    return rows;
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [backend, steps] = [process.argv[2] ?? 'cpu', Number(process.argv[3] ?? STEPS)];
  const s = await sampleRun(backend, steps);
  process.stdout.write(JSON.stringify(s) + '\n');
  process.exit(0);
}
