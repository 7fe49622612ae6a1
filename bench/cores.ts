// `npm run bench -- cores` (opt-in, issue 22.4): are both cores busy? On the fast cpu
// backend with 2 threads, for the demo's training step (VGG-16 width 1/8, fc 128,
// 1×32×32, batch 10) and W3a's (VGG-16, fc 4096, 3×64×64, batch 8), both with SGD momentum:
//   - the step's median wall time, with the threads' recording off;
//   - from steps with it on (src/kernels/cpu/simd/activity.ts), the share of the step
//     during which both threads compute, and how many threads compute on average.
// With TL_BASELINE=<an earlier build's dist/> the earlier build runs the same steps in
// this process, alternated step by step with this one (each build has its own modules,
// backend and threads), and the rows compare this build (ours) with it (peer); without it,
// the rows compare 2 threads with 1. A baseline without thread counters shows no share.
// TL_CORES_ROUNDS=d,w sets the rounds (alternated steps) of the demo and of W3a.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, type Benchmark, type Row } from './harness.js';

interface Counters { allBusyMs: number; helperBusyMs: number; waitMs: number }
interface Activity { recording: boolean; read(): Counters }

interface Build {
  label: string;
  setThreads(n: number): void;
  activity: Activity | null;
  steps: Record<string, () => void>;
}

/** TL_CORES_ROUNDS=d,w: rounds of the demo and of W3a (default 11,5; more where the machine is noisy). */
const [DEMO_ROUNDS, W3A_ROUNDS] = (process.env.TL_CORES_ROUNDS ?? '11,5').split(',').map((v) => Math.max(1, Number.parseInt(v, 10) || 1));
const CASES = [
  { label: 'demo step VGG-16/8 b10 1×32²', widthMult: 0.125, fcSize: 128, shape: [1, 32, 32], bsz: 10, rounds: DEMO_ROUNDS! },
  { label: 'W3a step VGG-16 b8 3×64²', widthMult: 1, fcSize: 4096, shape: [3, 64, 64], bsz: 8, rounds: W3A_ROUNDS ?? 5 },
];

async function load(root: string, label: string): Promise<Build> {
  const imp = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const kernels = await imp('src/kernels/index.js');
  const { generateVgg16TransferModel } = await imp('src/models/vgg16.js');
  const { GradientDescentMomentum } = await imp('src/optim/index.js');
  const { randomBatch, trainingStep } = await imp('bench/model-step.js');
  const { manualSeed } = await imp('src/index.js');
  manualSeed(0);
  const steps: Record<string, () => void> = {};
  for (const c of CASES) {
    const model = generateVgg16TransferModel({ widthMult: c.widthMult, fcSize: c.fcSize });
    const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
    steps[c.label] = trainingStep(model, opt, c.shape, randomBatch(c.bsz, c.shape, 2, 1));
  }
  const be = kernels.backend() as { name: string; threadActivity?: Activity };
  return { label: `${label} (backend '${be.name}')`, setThreads: kernels.setNumThreads, activity: be.threadActivity ?? null, steps };
}

/** Wall time of one step, ms; with counters: also the share with all threads busy and the threads computing on average. */
function step(b: Build, name: string, counted: boolean): { ms: number; allBusy: number; threads: number } {
  const act = counted ? b.activity : null;
  if (act) act.recording = true;
  const c0 = act?.read();
  const t0 = performance.now();
  b.steps[name]!();
  const ms = performance.now() - t0;
  const c1 = act?.read();
  if (act) act.recording = false;
  if (!c0 || !c1) return { ms, allBusy: NaN, threads: NaN };
  return { ms, allBusy: (c1.allBusyMs - c0.allBusyMs) / ms, threads: (ms - (c1.waitMs - c0.waitMs) + (c1.helperBusyMs - c0.helperBusyMs)) / ms };
}

interface Series { label: string; build: Build; threads: number; ms: number[]; allBusy: number[]; avg: number[] }

export const coresBench: Benchmark = {
  name: 'cores',
  ids: [],
  title: 'both cores busy (issue 22.4): demo and W3a training steps on 2 threads, share of the step with both threads computing; TL_BASELINE=<dist> compares an earlier build',
  optIn: true,
  async run(log) {
    const ours = await load(resolve(import.meta.dirname, '..'), 'this build');
    const base = process.env.TL_BASELINE ? await load(resolve(process.env.TL_BASELINE), `baseline ${process.env.TL_BASELINE}`) : null;
    const rows: Row[] = [];
    for (const c of CASES) {
      const series: Series[] = base
        ? [{ label: 'ours', build: ours, threads: 2 }, { label: 'baseline', build: base, threads: 2 }].map((s) => ({ ...s, ms: [], allBusy: [], avg: [] }))
        : [{ label: '2 threads', build: ours, threads: 2 }, { label: '1 thread', build: ours, threads: 1 }].map((s) => ({ ...s, ms: [], allBusy: [], avg: [] }));
      for (let round = -1; round < c.rounds; round++) { // one warm-up round
        for (const s of series) {
          s.build.setThreads(s.threads);
          const plain = step(s.build, c.label, false);
          const counted = step(s.build, c.label, true);
          if (round < 0) continue;
          s.ms.push(plain.ms);
          s.allBusy.push(counted.allBusy);
          s.avg.push(counted.threads);
        }
      }
      for (const s of series) {
        const share = median(s.allBusy), avg = median(s.avg);
        log(`  ${c.label}, ${s.label} (${s.build.label}, ${s.threads}T): median ${median(s.ms).toFixed(1)} ms a step (${s.ms.map((m) => m.toFixed(0)).join(' ')}); ` +
          (Number.isNaN(share) ? 'no thread counters' : `all threads busy ${(100 * share).toFixed(1)}% of the step, threads computing on average ${avg.toFixed(2)}`));
      }
      const [a, b] = series as [Series, Series];
      rows.push({ workload: `cores: ${c.label}, step time`, unit: 'ms', ours: median(a.ms), peer: base ? 'baseline build, 2 threads' : 'this build, 1 thread', peerValue: median(b.ms), note: `medians of ${c.rounds} alternated steps, ${a.threads} threads` });
      if (base) {
        rows.push({ workload: `cores: ${c.label}, share of the step with both threads busy`, unit: '%', ours: 100 * median(a.allBusy), peer: 'baseline build', peerValue: Number.isNaN(median(b.allBusy)) ? null : 100 * median(b.allBusy), note: 'medians of steps with the counters on' });
      } else {
        rows.push({ workload: `cores: ${c.label}, share of the step with both threads busy`, unit: '%', ours: 100 * median(a.allBusy), peer: '—', peerValue: null, note: 'medians of steps with the counters on' });
      }
    }
    ours.setThreads(2);
    base?.setThreads(2);
    return rows;
  },
};
