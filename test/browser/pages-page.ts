// Runs inside headless Chromium (test/browser/pages.test.ts serves it from 127.0.0.1, with
// or without cross-origin isolation): the page's backends as startPageBackends starts
// them, the conformance suite (test/kernels/conformance.test.ts itself, on vitest-page.ts)
// on the backends the query names, a gemm large enough to go over the fast backend's
// workers (against the exact product), and a reduced VGG-16 training step on each backend against `ref`.
import {
  ArrayIterator, CrossEntropyBinary, GeneralizedCost, Generator, GradientDescentMomentum, generateVgg16TransferModel,
  getBackend, manualSeed, pagePool, registeredBackends, setBackend, type PageBackends,
} from '../../src/browser/index.js';
import { started } from './page-setup.js';
import { runCollected, type PageTestResult } from './vitest-page.js';
import '../kernels/conformance.test.js';

export interface PageReport {
  started: PageBackends;
  isolated: boolean;
  backends: { name: string; description: string }[];
  tests: PageTestResult[];
  /** gemm 160³ on cpu: worst error against the exact product, relative to Σ|a·b| (float32's bound: 160·2⁻²⁴), and tasks the workers ran. */
  gemm: { worst: number; helperTasks: number };
  /** A reduced VGG-16 (width 1/16, fc 16, 3×32×32, batch 4, 2 steps) per backend: loss and weights against ref. */
  vgg: { name: string; loss: number; lossRef: number; worstWeight: number; params: number }[];
}

function rand(n: number, gen: Generator): Float32Array {
  return Float32Array.from({ length: n }, () => gen.uniform(-1, 1));
}

async function trainVgg(name: string): Promise<{ loss: number; weights: Float32Array[] }> {
  const xg = new Generator(2);
  const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => xg.uniform(-1, 1));
  const yl = Int32Array.from({ length: 8 }, (_, i) => i % 2);
  setBackend(name);
  try {
    manualSeed(7);
    const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 0.5 });
    const data = () => new ArrayIterator({ x, y: yl, nclass: 2, lshape: [3, 32, 32], bsz: 4 });
    const cost = new GeneralizedCost(CrossEntropyBinary());
    await model.fit(data(), { optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4 }), numEpochs: 1, cost });
    const loss = model.evalCost(data(), cost);
    return { loss, weights: model.layersToOptimize.flatMap((l) => l.params().map((p) => Float32Array.from(p.value.toHost()))) };
  } finally {
    setBackend('ref');
  }
}

export async function runPage(o: { filter?: string; vgg?: string[] } = {}): Promise<PageReport> {
  const tests = await runCollected(o.filter ?? '');
  const gen = new Generator(3), n = 160;
  const A = rand(n * n, gen), B = rand(n * n, gen);
  const mm = (name: string): Float32Array => {
    const b = getBackend(name), C = b.alloc('float32', n * n);
    b.gemm(false, false, n, n, n, 1, b.upload(A), 0, n, b.upload(B), 0, n, 0, C, 0, n);
    return Float32Array.from(b.read(C, 0, n * n));
  };
  const before = pagePool()?.helperTasks ?? 0;
  const got = mm('cpu');
  // Against the exact product (float64), scaled by Σ_k |a_ik b_kj|: float32's bound for a dot product of n terms is n·2⁻²⁴ of that.
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let exact = 0, scale = 0;
      for (let k = 0; k < n; k++) {
        exact += A[i * n + k]! * B[k * n + j]!;
        scale += Math.abs(A[i * n + k]! * B[k * n + j]!);
      }
      worst = Math.max(worst, Math.abs(got[i * n + j]! - exact) / scale);
    }
  }
  const vgg: PageReport['vgg'] = [];
  const ref = await trainVgg('ref');
  for (const name of o.vgg ?? []) {
    if (!registeredBackends().some((b) => b.name === name)) continue;
    const r = await trainVgg(name);
    let w = 0;
    r.weights.forEach((a, i) => {
      const e = ref.weights[i]!;
      for (let j = 0; j < a.length; j++) w = Math.max(w, Math.abs(a[j]! - e[j]!) / (1e-2 + Math.abs(e[j]!)));
    });
    vgg.push({ name, loss: r.loss, lossRef: ref.loss, worstWeight: w, params: r.weights.length });
  }
  return {
    started, isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    backends: registeredBackends().map((b) => ({ name: b.name, description: b.description })),
    tests, gemm: { worst, helperTasks: (pagePool()?.helperTasks ?? 0) - before }, vgg,
  };
}
(globalThis as { runPage?: typeof runPage }).runPage = runPage;
