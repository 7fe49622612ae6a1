// W1: gemm 1024 × 1024 × 1024, float32. Ours: the `cpu` backend's gemm (WebAssembly SIMD,
// src/kernels/cpu/simd/) on one and on two threads, and the reference backend's (`ref`,
// src/kernels/cpu/ref/gemm.ts, the textbook loop), each through Backend.gemm on its own buffers. Peers: tf.matMul
// on tfjs' pure-JS CPU backend and on its WebAssembly backend (XNNPACK, one thread in Node).
import { getBackend, getNumThreads, setNumThreads } from '../src/kernels/index.js';
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';
import { tfLabel, useTfBackend, type TfBackend } from './peers/tfjs.js';

const SIZE = 1024;
const WORKLOAD = `W1 gemm ${SIZE}³ f32`;

function flops(n: number): number {
  return 2 * n * n * n;
}

function randomMatrix(n: number, seed: number): Float32Array {
  const x = new Float32Array(n * n);
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return x;
}

/** GFLOP/s of `backend`'s gemm on `threads` threads (the reference: 3 runs, ~1 s each). */
function oursGflops(backend: 'cpu' | 'ref', threads: number, log: (m: string) => void): number {
  const n = SIZE, be = getBackend(backend);
  const A = be.upload(randomMatrix(n, 1)), B = be.upload(randomMatrix(n, 2)), C = be.alloc('float32', n * n);
  const prev = getNumThreads();
  setNumThreads(threads);
  try {
    const t = measure(() => be.gemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n), backend === 'ref' ? { warmup: 1, runs: 3 } : { warmup: 3, runs: 9 });
    log(`  ${backend}${backend === 'cpu' ? ` ${threads} thread${threads > 1 ? 's' : ''}` : ''}: ${describeTiming(t)}`);
    return flops(n) / t.median / 1e9;
  } finally {
    setNumThreads(prev);
  }
}

async function tfGflops(backend: TfBackend, log: (m: string) => void): Promise<number> {
  const tf = await useTfBackend(backend);
  const n = SIZE;
  // Warm the kernel up on a smaller product (tfjs-cpu takes seconds per 1024³ product).
  const warmN = backend === 'cpu' ? 256 : n;
  const wa = tf.tensor2d(randomMatrix(warmN, 3), [warmN, warmN]), wb = tf.tensor2d(randomMatrix(warmN, 4), [warmN, warmN]);
  const a = tf.tensor2d(randomMatrix(n, 1), [n, n]), b = tf.tensor2d(randomMatrix(n, 2), [n, n]);
  const product = (x: typeof a, y: typeof a) => {
    const c = tf.matMul(x, y);
    c.dataSync();
    c.dispose();
  };
  measure(() => product(wa, wb), { warmup: 2, runs: 0 });
  const t = measure(() => product(a, b), { warmup: backend === 'cpu' ? 0 : 3, runs: backend === 'cpu' ? 3 : 9 });
  tf.dispose([a, b, wa, wb]);
  log(`  ${tfLabel(backend)}: ${describeTiming(t)}`);
  return flops(n) / t.median / 1e9;
}

export const gemmBench: Benchmark = {
  name: 'gemm',
  ids: ['W1'],
  title: `gemm ${SIZE}×${SIZE}×${SIZE} float32: cpu backend on 1 and 2 threads, ref backend, tfjs-cpu, tfjs-wasm`,
  async run(log) {
    const one = oursGflops('cpu', 1, log), two = oursGflops('cpu', 2, log), ref = oursGflops('ref', 1, log);
    const peers = { cpu: await tfGflops('cpu', log), wasm: await tfGflops('wasm', log) };
    const cpuNote = 'tfjs-cpu: median of 3 products after warm-up on 256³ (one 1024³ product takes seconds)';
    const w = (what: string) => `${WORKLOAD} ${what}`;
    return [
      { workload: w('cpu, 1 thread'), unit: 'GFLOP/s', ours: one, peer: tfLabel('wasm'), peerValue: peers.wasm },
      { workload: w('cpu, 1 thread'), unit: 'GFLOP/s', ours: one, peer: tfLabel('cpu'), peerValue: peers.cpu, note: cpuNote },
      { workload: w('cpu, 1 thread'), unit: 'GFLOP/s', ours: one, peer: 'ref backend (plain TypeScript)', peerValue: ref },
      { workload: w('cpu, 2 threads'), unit: 'GFLOP/s', ours: two, peer: tfLabel('wasm'), peerValue: peers.wasm },
      { workload: w('cpu, 2 threads'), unit: 'GFLOP/s', ours: two, peer: 'cpu, 1 thread', peerValue: one },
    ] satisfies Row[];
  },
};
