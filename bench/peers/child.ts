// One workload of bench/peers.ts in a process of its own, so that nothing run before counts
// in its time or memory: `node dist/bench/peers/child.js <ours|ort> <W2|W3a|W4a> <threads>`.
// Prints one JSON line: the median seconds of a run after warm-up, the samples, and the
// process's resident memory after the runs and at its peak (VmRSS, VmHWM), in MB.
//   W2   3×3 conv 64→64, 56², batch 8: forward + backward (ours), forward alone (ours, ort)
//   W3a  VGG-16 transfer model training step, batch 8, 3×64×64, fc 4096-4096-2 (ours)
//   W4a  VGG-16 transfer model inference, batch 1, 3×224×224 (ours, ort: our ONNX export)
// onnxruntime-node runs inference only (it has no training API): no W2 backward, no W3a.
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { conv2d, noGrad, tensor } from '../../src/index.js';
import { setNumThreads } from '../../src/kernels/index.js';
import { Constant, Xavier } from '../../src/layers/initializers.js';
import { Conv } from '../../src/layers/compound.js';
import { Model } from '../../src/models/model.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import { onnxBytes } from '../../src/export/onnx.js';
import { measure, median } from '../harness.js';
import { randomBatch, randomData, trainingStep } from '../model-step.js';

export const W2 = { N: 8, C: 64, K: 64, H: 56, W: 56 } as const;
export const W3A = { bsz: 8, shape: [3, 64, 64] as const };
export const W4A = { shape: [3, 224, 224] as const };

export interface ChildResult {
  /** Median seconds of one run (W2: forward + backward where measured). */
  seconds: number | null;
  /** W2 only: median seconds of the forward pass alone. */
  forward?: number;
  samples: number[];
  rssMB: number;
  peakMB: number;
  /** CPU seconds of the process over its wall seconds since it started: well under the thread count means other processes took the cores. */
  cpuShare?: number;
}

function memory(): { rssMB: number; peakMB: number } {
  const st = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? NaN) / 1024;
  return { rssMB: kb('VmRSS'), peakMB: kb('VmHWM') };
}

const centred = (n: number, seed: number, scale = 1) => randomData(n, seed).map((v) => (v - 0.5) * scale);

function oursW2(): ChildResult {
  const { N, C, K, H, W } = W2;
  const x = tensor(centred(N * C * H * W, 1), [N, C, H, W], { requiresGrad: true });
  const w = tensor(centred(K * C * 9, 2, 0.1), [K, C, 3, 3], { requiresGrad: true });
  const b = tensor(centred(K, 3), [K], { requiresGrad: true });
  const gy = centred(N * K * H * W, 4);
  const fb = measure(() => {
    x.zeroGrad(); w.zeroGrad(); b.zeroGrad();
    conv2d(x, w, b, { stride: 1, padding: 1 }).backward(gy);
  }, { warmup: 1, runs: 5 });
  const f = measure(() => noGrad(() => conv2d(x, w, b, { stride: 1, padding: 1 }).toHost()), { warmup: 1, runs: 5 });
  return { seconds: fb.median, forward: f.median, samples: fb.samples, ...memory() };
}

function oursW3a(): ChildResult {
  const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
  const opt = new GradientDescentMomentum(0.001, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, W3A.shape, randomBatch(W3A.bsz, W3A.shape, 2, 1));
  const t = measure(step, { warmup: 1, runs: 3 });
  return { seconds: t.median, samples: t.samples, ...memory() };
}

function oursW4a(): ChildResult {
  const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
  model.initialize(W4A.shape);
  const { x } = randomBatch(1, W4A.shape, 2, 3);
  const t = measure(() => model.fprop(x, true).toHost(), { warmup: 1, runs: 5 });
  return { seconds: t.median, samples: t.samples, ...memory() };
}

/** Warm-up, then `runs` timed runs of an async inference. */
async function timeAsync(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  return samples;
}

/** onnxruntime-node on our ONNX export of `model`: seconds per run on `x`. */
async function ortRun(model: Model, shape: number[], threads: number, runs: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnxBytes(model), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const input = new ort.Tensor('float32', centred(shape.reduce((a, b) => a * b, 1), 5), shape);
  return timeAsync(() => session.run({ input }), runs);
}

async function ortW2(threads: number): Promise<ChildResult> {
  const { N, C, K, H, W } = W2;
  // a model of one convolution and its bias: the ONNX graph is a single Conv node
  const model = new Model([Conv([3, 3, K], { init: new Xavier(true), bias: new Constant(0), strides: 1, padding: 1, name: 'conv' })]);
  model.initialize([C, H, W]);
  const samples = await ortRun(model, [N, C, H, W], threads, 5);
  return { seconds: null, forward: median(samples), samples, ...memory() };
}

async function ortW4a(threads: number): Promise<ChildResult> {
  const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
  model.initialize(W4A.shape);
  const samples = await ortRun(model, [1, ...W4A.shape], threads, 5);
  return { seconds: median(samples), samples, ...memory() };
}

async function main(): Promise<void> {
  const [who, workload, t] = process.argv.slice(2);
  const threads = Number(t);
  if (!['ours', 'ort'].includes(who ?? '') || !['W2', 'W3a', 'W4a'].includes(workload ?? '') || !(threads >= 1)) {
    throw new Error('usage: child.js <ours|ort> <W2|W3a|W4a> <threads>');
  }
  let r: ChildResult;
  if (who === 'ours') {
    setNumThreads(threads);
    r = workload === 'W2' ? oursW2() : workload === 'W3a' ? oursW3a() : oursW4a();
  } else {
    if (workload === 'W3a') throw new Error('onnxruntime-node has no training API');
    r = workload === 'W2' ? await ortW2(threads) : await ortW4a(threads);
  }
  const cpu = process.cpuUsage();
  r.cpuShare = (cpu.user + cpu.system) / 1e6 / process.uptime();
  console.log(JSON.stringify(r));
  process.exit(0); // worker threads of the cpu backend would keep the process alive
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
