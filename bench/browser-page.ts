// Runs inside headless Chromium (bench/gpu-browser.ts and bench/page-cpu.ts bundle it with
// the engine's browser entry): runBench, the GPU backend in gpu.js's WebGL2 mode (SwiftShader:
// on the CPU) and the reference backend on the same workloads as bench/gpu.ts and the gemm
// row: gemm 512³, and the VGG-16 w1/16 fc16 3×32×32 batch-8 training step; runDemoStep, the
// demo's training step on the page's cpu backend. Times in seconds; each timed call ends
// with a read of one value (on GL that waits for the queued draws).
import { GradientDescentMomentum, generateVgg16TransferModel, getBackend, gpuDevice, registeredBackends, setBackend, startPageBackends } from '../src/browser/index.js';
import { randomBatch, trainingStep } from './model-step.js';

export interface BrowserBenchReport {
  mode: string; renderer: string | null; ref: string;
  gemm: { gpu: number; ref: number; n: number };
  step: { gpu: number; ref: number; bsz: number };
}

function med(fn: () => void, warmup: number, runs: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push((performance.now() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1]!;
}

export function runBench(): BrowserBenchReport {
  const d = gpuDevice();
  const refName = registeredBackends().find((b) => b.name === 'ref')?.name ?? 'cpu';
  const n = 512;
  const gemmOn = (name: string): number => {
    const b = getBackend(name);
    const A = b.upload(Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5));
    const B = b.upload(Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5));
    const C = b.alloc('float32', n * n);
    return med(() => { b.gemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n); b.read(C, 0, 1); }, 1, 5);
  };
  const inShape = [3, 32, 32], bsz = 8;
  const stepOn = (name: string): number => {
    setBackend(name);
    try {
      const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
      const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
      const step = trainingStep(model, opt, inShape, randomBatch(bsz, inShape, 2, 1));
      const first = model.layersToOptimize[0]!.params()[0]!; // conv1_1's weights: a few hundred values read back
      return med(() => { step(); first.value.toHost(); }, 2, 7);
    } finally {
      setBackend(refName);
    }
  };
  return {
    mode: d.mode, renderer: d.info.renderer, ref: refName,
    gemm: { gpu: gemmOn('gpu'), ref: gemmOn(refName), n },
    step: { gpu: stepOn('gpu'), ref: stepOn(refName), bsz },
  };
}
(globalThis as { runBench?: typeof runBench }).runBench = runBench;

export interface DemoStepReport { cpuLine: string; threads: number; seconds: number[]; bsz: number }

/**
 * The demo's training step (VGG-16 w1/8 fc128, 1×32×32, batch 10, SGD momentum) on the
 * page's `cpu` (the fast backend on Web Workers where the page is cross-origin isolated):
 * `runs` timed steps after 2 warm-up ones, each ending with a read of conv1_1's weights.
 * bench/page-cpu.ts times the same step in Node.
 */
export async function runDemoStep(threads: number, runs: number): Promise<DemoStepReport> {
  const started = await startPageBackends({ threads, webgpu: false });
  setBackend('cpu');
  const inShape = [1, 32, 32], bsz = 10;
  const model = generateVgg16TransferModel({ widthMult: 0.125, fcSize: 128 });
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, inShape, randomBatch(bsz, inShape, 2, 1));
  const first = model.layersToOptimize[0]!.params()[0]!;
  const seconds: number[] = [];
  for (let i = -2; i < runs; i++) {
    const t0 = performance.now();
    step();
    first.value.toHost();
    if (i >= 0) seconds.push((performance.now() - t0) / 1000);
  }
  return { cpuLine: started.cpuLine, threads: started.threads, seconds, bsz };
}
(globalThis as { runDemoStep?: typeof runDemoStep }).runDemoStep = runDemoStep;
