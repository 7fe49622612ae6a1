// `npm run bench -- profile` (opt-in): where a training step's time goes, by layer and
// pass (src/models/profile.ts), on the cpu backend with 1 and 2 threads, for
//   - the demo's step: VGG-16 width 1/8, fc 128, 1×32×32, batch 10 (as `npm run demo` trains);
//   - W3a's step: VGG-16, batch 8, 3×64×64, fc 4096-4096-2, SGD momentum, every layer training;
//   - a reduced VGG-16 (width ×1/4, fc 256) at 3×32×32, batch 8: the pinned-training shape, wider.
// One warm-up step, then the profiled steps; prints each table, and returns as rows the
// step's img/s with and without the profile attached (the wrappers' own cost).
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { getNumThreads, setNumThreads } from '../src/kernels/index.js';
import { Profile } from '../src/models/profile.js';
import { median, type Benchmark, type Row } from './harness.js';
import { randomBatch, trainingStep } from './model-step.js';

interface Case { label: string; shape: readonly [number, number, number]; bsz: number; widthMult: number; fcSize: number; steps: number }
const CASES: Case[] = [
  { label: 'demo VGG-16 (×1/8, fc 128) b10 1×32²', shape: [1, 32, 32], bsz: 10, widthMult: 0.125, fcSize: 128, steps: 10 },
  { label: 'reduced VGG-16 (×1/4, fc 256) b8 32²', shape: [3, 32, 32], bsz: 8, widthMult: 0.25, fcSize: 256, steps: 8 },
  { label: 'W3a VGG-16 b8 64²', shape: [3, 64, 64], bsz: 8, widthMult: 1, fcSize: 4096, steps: 3 },
];

function profileCase(c: Case, threads: number, log: (m: string) => void): Row {
  const prev = getNumThreads();
  setNumThreads(threads);
  try {
    const model = generateVgg16TransferModel({ widthMult: c.widthMult, fcSize: c.fcSize });
    const opt = new GradientDescentMomentum(0.001, { momentumCoef: 0.9, wdecay: 0.0005 });
    const run = trainingStep(model, opt, c.shape, randomBatch(c.bsz, c.shape, 2, 1));
    run();
    const plain: number[] = [], profiled: number[] = [];
    const profile = new Profile();
    profile.attach(model, opt, model.cost);
    for (let i = 0; i < c.steps; i++) {
      // alternated: a plain step, then a profiled one
      profile.detach();
      let t0 = performance.now();
      run();
      plain.push(performance.now() - t0);
      profile.attach(model, opt, model.cost);
      t0 = performance.now();
      profile.beginStep();
      run();
      profile.endStep();
      profiled.push(performance.now() - t0);
    }
    profile.detach();
    log(`\n  ${c.label}, cpu, ${threads} thread${threads > 1 ? 's' : ''}:\n${profile.format().replace(/^/gm, '    ')}`);
    const p = median(plain), q = median(profiled);
    const busy = threads > 1 ? `; all ${threads} threads busy ${((100 * profile.stepAllBusyMs) / profile.stepMs).toFixed(1)}% of the profiled steps, ${(profile.stepThreadMs / profile.stepMs).toFixed(2)} computing on average` : '';
    return { workload: `profile ${c.label}, cpu ${threads}T`, unit: 'img/s', ours: c.bsz / (q / 1000), peer: 'same step unprofiled', peerValue: c.bsz / (p / 1000), note: `medians of ${c.steps} alternated steps${busy}` };
  } finally {
    setNumThreads(prev);
  }
}

export const profileBench: Benchmark = {
  name: 'profile',
  ids: [],
  title: 'where a training step\'s time goes: per layer and pass (the demo\'s step, reduced VGG-16 at 32², and W3a\'s VGG-16 step), cpu 1 and 2 threads',
  optIn: true,
  async run(log) {
    const rows: Row[] = [];
    for (const c of CASES) for (const threads of [1, 2]) rows.push(profileCase(c, threads, log));
    return rows;
  },
};
