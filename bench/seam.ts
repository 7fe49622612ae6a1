// The kernel seam's cost: this build against an earlier build of the engine (the peer),
// both loaded into this process and alternated step by step on the same workloads, so the
// machine's load falls on both alike. Opt-in: it needs the earlier build, e.g.
//
//   git worktree add /tmp/tl-base <commit> && (cd /tmp/tl-base && npm ci && npm run build)
//   TL_BASELINE=/tmp/tl-base/dist npm run bench -- seam
//
// Workloads go through the public ops and the Model (so the seam's dispatch, buffer
// allocation and read-backs are in the timing), on the reference kernels: `ref` in a build
// that has it (since the fast backend took the name `cpu`), else the default, which was then
// the reference. The log line of each build says which backend ran:
//   conv 3×3 32→32 28² b8 fwd+bwd (Winograd), conv 3×3 stride 2 (im2col), matmul 256³,
//   elementwise relu(x + y) on 1M values, the demo's training step (VGG-16/8, b10) and
//   its inference (b50).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeTiming, median, type Benchmark, type Row } from './harness.js';

/** The parts of the engine's API both builds share. */
interface Engine {
  label: string;
  ops: {
    availableBackends?: () => string[];
    setBackend: (name: string) => unknown;
    backend: () => { name: string; description?: string };
    tensor: (data: Float32Array, shape: number[], opts?: { requiresGrad?: boolean }) => { sum(): { backward(): void }; size: number; data: ArrayLike<number> };
    uniform: (shape: number[], lo: number, hi: number, opts?: { requiresGrad?: boolean }) => unknown;
    conv2d: (x: unknown, w: unknown, b: unknown, opts: { padding?: number; stride?: number }) => { sum(): { backward(): void } };
    matmul: (a: unknown, b: unknown) => { data: ArrayLike<number> };
    add: (a: unknown, b: unknown) => unknown;
    relu: (a: unknown) => { data: ArrayLike<number> };
    noGrad: <T>(fn: () => T) => T;
    manualSeed: (s: number) => void;
  };
  step: () => void;
  infer: () => void;
}

async function load(root: string, label: string): Promise<Engine> {
  const imp = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const ops = await imp('src/index.js');
  const { generateVgg16TransferModel } = await imp('src/models/vgg16.js');
  const { GradientDescentMomentum } = await imp('src/optim/index.js');
  const { randomBatch, trainingStep } = await imp('bench/model-step.js');
  // Each build has its own registry (its own modules), so this picks its backend only.
  if (ops.availableBackends?.().includes('ref')) ops.setBackend('ref');
  label = `${label} (backend '${ops.backend().name}')`;
  ops.manualSeed(0);
  const model = generateVgg16TransferModel({ widthMult: 0.125, fcSize: 128 });
  const shape = [1, 32, 32];
  model.initialize(shape);
  const step = trainingStep(model, new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 }), shape, randomBatch(10, shape, 2, 1));
  const eb = randomBatch(50, shape, 2, 2);
  return { label, ops, step, infer: () => model.fprop(eb.x, true) };
}

function workloads(e: Engine): Record<string, () => void> {
  const { ops } = e;
  ops.manualSeed(1);
  const u = (shape: number[], grad = false) => ops.uniform(shape, -1, 1, { requiresGrad: grad });
  const x = u([8, 32, 28, 28], true), w = u([32, 32, 3, 3], true);
  const x2 = u([8, 32, 28, 28], true), w2 = u([32, 32, 3, 3], true);
  const a = u([256, 256]), b = u([256, 256]);
  const p = u([1 << 20]), q = u([1 << 20]);
  return {
    'conv 3×3 32→32 28² b8 fwd+bwd (Winograd)': () => ops.conv2d(x, w, null, { padding: 1 }).sum().backward(),
    'conv 3×3 s2 32→32 28² b8 fwd+bwd (im2col)': () => ops.conv2d(x2, w2, null, { padding: 1, stride: 2 }).sum().backward(),
    'matmul 256³': () => void ops.noGrad(() => ops.matmul(a, b)),
    'relu(x + y), 1M values': () => void ops.noGrad(() => ops.relu(ops.add(p, q))),
    'demo step VGG-16/8 b10 (Model: layers + optimizer)': e.step,
    'demo inference VGG-16/8 b50': e.infer,
  };
}

const ROUNDS = 9;

export const seamBench: Benchmark = {
  name: 'seam',
  ids: [],
  title: 'this build vs an earlier one (TL_BASELINE=<its dist folder>), alternated step by step: ops, conv, a training step',
  optIn: true,
  async run(log) {
    const base = process.env.TL_BASELINE;
    if (!base) {
      log('  seam: set TL_BASELINE to the dist/ folder of an earlier build (see bench/seam.ts); skipped');
      return [];
    }
    const here = resolve(import.meta.dirname, '..');
    const engines = [await load(here, 'this build'), await load(base, `build at ${base}`)];
    const sets = engines.map(workloads);
    const rows: Row[] = [];
    for (const name of Object.keys(sets[0]!)) {
      const samples: number[][] = [[], []];
      const cpu0 = process.cpuUsage(), wall0 = performance.now();
      for (let round = -2; round < ROUNDS; round++) {
        sets.forEach((s, i) => {
          const t0 = performance.now();
          s[name]!();
          if (round >= 0) samples[i]!.push(performance.now() - t0);
        });
      }
      const cpu = process.cpuUsage(cpu0);
      const cpuShare = (cpu.user + cpu.system) / 1e3 / (performance.now() - wall0);
      engines.forEach((e, i) => log(`  ${name}, ${e.label}: ${describeTiming({ median: median(samples[i]!) / 1000, samples: samples[i]!.map((v) => v / 1000), cpuShare })}`));
      rows.push({ workload: `seam: ${name}`, unit: 'ms', ours: median(samples[0]!), peer: 'earlier build', peerValue: median(samples[1]!), note: `medians of ${ROUNDS}, the two builds alternated; peer = ${base}` });
    }
    return rows;
  },
};
