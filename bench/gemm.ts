// W1: gemm 1024 × 1024 × 1024, float32, single-threaded. Ours: the CPU backend's gemm kernel
// (src/kernels/cpu/gemm.ts) called directly. Peers: tf.matMul on tfjs' pure-JS CPU backend
// and on its WebAssembly backend.
import { gemm } from '../src/kernels/cpu/gemm.js';
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

function oursGflops(log: (m: string) => void): number {
  const n = SIZE;
  const A = randomMatrix(n, 1), B = randomMatrix(n, 2), C = new Float32Array(n * n);
  const t = measure(() => gemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n), { warmup: 2, runs: 7 });
  log(`  ours: ${describeTiming(t)}`);
  return flops(n) / t.median / 1e9;
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
  title: `gemm ${SIZE}×${SIZE}×${SIZE} float32, one thread`,
  async run(log) {
    const ours = oursGflops(log);
    const rows: Row[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      const peer = await tfGflops(backend, log);
      rows.push({
        workload: WORKLOAD, unit: 'GFLOP/s', ours, peer: tfLabel(backend), peerValue: peer,
        note: backend === 'cpu' ? 'tfjs-cpu: median of 3 products after warm-up on 256³ (one 1024³ product takes seconds)' : undefined,
      });
    }
    return rows;
  },
};
