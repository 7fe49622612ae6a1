// W3a and W4a of perf-baseline.md on each of our backends, with the TensorFlow.js peers:
//   W3a: a VGG-16 training step (SGD momentum, every layer training), batch 8, 3×64×64,
//        fc 4096-4096-2: img/s on the `cpu` backend (2 threads, 1 thread) and `ref`.
//        tfjs-wasm cannot train convolutions (no Conv2DBackpropFilter kernel) and tfjs-cpu
//        takes ~45 minutes a step (perf-baseline.md): neither is run.
//   W4a: VGG-16 inference, batch 1, 3×224×224: img/s on `cpu` (2 threads, 1 thread), `ref`
//        and tfjs-wasm (the same network built from tfjs ops, NHWC, random weights), with
//        the process's resident memory after each; tfjs-cpu (~50 s an image) only in the
//        opt-in `vgg-tfcpu`.
// Each of our backends builds its own model (created on that backend), measured, then
// dropped before the next.
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { getNumThreads, setBackend, setNumThreads } from '../src/kernels/index.js';
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';
import { forwardFlopsPerExample, randomBatch, randomData, trainingStep } from './model-step.js';
import { tfLabel, useTfBackend, type TfBackend } from './peers/tfjs.js';

const STEP_SHAPE = [3, 64, 64] as const, STEP_BSZ = 8;
const INFER_SHAPE = [3, 224, 224] as const;

interface Config {
  label: string;
  backend: 'cpu' | 'ref';
  threads: number;
}
const CONFIGS: Config[] = [
  { label: 'cpu, 2 threads', backend: 'cpu', threads: 2 },
  { label: 'cpu, 1 thread', backend: 'cpu', threads: 1 },
  { label: 'ref', backend: 'ref', threads: 1 },
];

function onBackend<T>(c: Config, f: () => T): T {
  const prev = getNumThreads();
  setBackend(c.backend);
  setNumThreads(c.threads);
  try {
    return f();
  } finally {
    setBackend('cpu');
    setNumThreads(prev);
  }
}

const mb = (bytes: number) => bytes / 2 ** 20;

/** W4a on one of our backends: images per second and RSS (MB) after the runs. */
function inference(c: Config, log: (m: string) => void): { ips: number; rss: number } {
  return onBackend(c, () => {
    const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
    model.initialize(INFER_SHAPE);
    const { x } = randomBatch(1, INFER_SHAPE, 2, 3);
    const t = measure(() => model.fprop(x, true), c.backend === 'ref' ? { warmup: 1, runs: 1 } : { warmup: 1, runs: 5 });
    const rss = mb(process.memoryUsage().rss);
    log(`  W4a ${c.label}: ${describeTiming(t)}, ${(forwardFlopsPerExample(model) / t.median / 1e9).toFixed(1)} GFLOP/s, RSS ${rss.toFixed(0)} MB`);
    return { ips: 1 / t.median, rss };
  });
}

/** W3a on one of our backends: images per second. */
function step(c: Config, log: (m: string) => void): number {
  return onBackend(c, () => {
    const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
    const opt = new GradientDescentMomentum(0.001, { momentumCoef: 0.9, wdecay: 0.0005 });
    const run = trainingStep(model, opt, STEP_SHAPE, randomBatch(STEP_BSZ, STEP_SHAPE, 2, 1));
    const t = measure(run, c.backend === 'ref' ? { warmup: 0, runs: 1 } : { warmup: 1, runs: 3 });
    log(`  W3a ${c.label}: ${describeTiming(t)}, ${((3 * STEP_BSZ * forwardFlopsPerExample(model)) / t.median / 1e9).toFixed(1)} GFLOP/s`);
    return STEP_BSZ / t.median;
  });
}

/** W4a in TensorFlow.js: the VGG-16 features and a 4096-4096-2 head from tfjs ops, NHWC. */
async function tfInference(backend: TfBackend, log: (m: string) => void): Promise<{ ips: number; rss: number }> {
  const tf = await useTfBackend(backend);
  const widths = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]; // 0: 2×2 max pool
  let c = 3, seed = 10;
  const weights = widths.map((k) => {
    if (k === 0) return null;
    const w = tf.tensor4d(randomData(9 * c * k, seed++).map((v) => (v - 0.5) * 0.05), [3, 3, c, k]);
    c = k;
    return { w, b: tf.zeros([k]) };
  });
  const dense = [[512 * 7 * 7, 4096], [4096, 4096], [4096, 2]].map(([i, o]) => ({ w: tf.tensor2d(randomData(i! * o!, seed++).map((v) => (v - 0.5) * 0.01), [i!, o!]), b: tf.zeros([o!]) }));
  const x = tf.tensor4d(randomData(224 * 224 * 3, 3), [1, 224, 224, 3]);
  const forward = () => {
    const y = tf.tidy(() => {
      let h = x as ReturnType<typeof tf.tensor4d>;
      for (const l of weights) h = l === null ? tf.maxPool(h, 2, 2, 'valid') : tf.relu(tf.add(tf.conv2d(h, l.w, 1, 'same'), l.b)) as typeof h;
      let z = tf.reshape(h, [1, 512 * 7 * 7]) as ReturnType<typeof tf.tensor2d>;
      dense.forEach((l, i) => {
        z = tf.add(tf.matMul(z, l.w), l.b);
        if (i < 2) z = tf.relu(z);
      });
      return z;
    });
    y.dataSync();
    y.dispose();
  };
  const t = measure(forward, backend === 'cpu' ? { warmup: 0, runs: 1 } : { warmup: 1, runs: 3 });
  const rss = mb(process.memoryUsage().rss);
  log(`  W4a ${tfLabel(backend)}: ${describeTiming(t)}, RSS ${rss.toFixed(0)} MB`);
  tf.dispose([x, ...weights.flatMap((l) => (l ? [l.w, l.b] : [])), ...dense.flatMap((l) => [l.w, l.b])]);
  return { ips: 1 / t.median, rss };
}

function rowsFor(infer: Map<string, { ips: number; rss: number }>, steps: Map<string, number>, peerName: string, peer: { ips: number; rss: number }, peerNote?: string): Row[] {
  const rows: Row[] = [];
  for (const [label, v] of infer) {
    if (label === 'ref') continue;
    rows.push({ workload: `W4a VGG-16 inference b1 224², ${label}`, unit: 'img/s', ours: v.ips, peer: peerName, peerValue: peer.ips, note: peerNote });
    rows.push({ workload: `W4a VGG-16 inference b1 224², ${label}`, unit: 'img/s', ours: v.ips, peer: 'ref backend', peerValue: infer.get('ref')!.ips });
    rows.push({ workload: `W4a resident memory after, ${label}`, unit: 'MB', ours: v.rss, peer: 'ref backend (its run, after)', peerValue: infer.get('ref')!.rss, note: 'process RSS right after the runs of each backend (the process holds the earlier ones\' leftovers too); the lab\'s PyTorch: 0.8-1.1 GB' });
  }
  for (const [label, v] of steps) {
    if (label === 'ref') continue;
    rows.push({ workload: `W3a VGG-16 train step b8 64², ${label}`, unit: 'img/s', ours: v, peer: 'ref backend', peerValue: steps.get('ref')!, note: 'W3a: ref timed on one step without warm-up (~15-25 s); tfjs-wasm cannot train convolutions (no Conv2DBackpropFilter kernel), tfjs-cpu takes ~45 min a step (perf-baseline.md)' });
  }
  return rows;
}

async function runVgg(log: (m: string) => void, tfBackend: TfBackend): Promise<Row[]> {
  const infer = new Map<string, { ips: number; rss: number }>();
  for (const c of CONFIGS) infer.set(c.label, inference(c, log));
  const peer = await tfInference(tfBackend, log);
  const steps = new Map<string, number>();
  for (const c of CONFIGS) steps.set(c.label, step(c, log));
  const note = tfBackend === 'cpu' ? 'tfjs-cpu: one image, no warm-up (~50 s)' : undefined;
  return rowsFor(infer, steps, tfLabel(tfBackend), peer, note);
}

export const vggBench: Benchmark = {
  name: 'vgg',
  ids: ['W3a', 'W4a'],
  title: 'VGG-16: training step (W3a, batch 8, 3×64×64) and inference (W4a, batch 1, 3×224×224) on cpu (2 and 1 threads) and ref; tfjs-wasm inference',
  run: (log) => runVgg(log, 'wasm'),
};

export const vggTfCpuBench: Benchmark = {
  name: 'vgg-tfcpu',
  ids: [],
  title: 'as vgg, with tfjs-cpu as the inference peer (~1 minute for its one image)',
  optIn: true,
  run: (log) => runVgg(log, 'cpu'),
};
