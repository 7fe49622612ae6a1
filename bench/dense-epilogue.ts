// The dense layer's fused epilogue: Backend.linearForward with the bias and the ReLU in the
// gemm's output pass, against the same product as gemm, biasAdd and unary('relu') one after
// the other (what the layers do with fusion off), alternated call by call so that the
// machine's load falls on both alike. Shapes: VGG-16's fc7 (4096 → 4096) at batch 32 and
// a small layer (batch 8, 1024 → 512) on `cpu`; on `webgpu` and `gpu` (where they start)
// a small one only (software renderers here: ratios only).
import { getBackend } from '../src/kernels/index.js';
import type { Backend } from '../src/kernels/backend.js';
import { webgpuSync, webgpuUnavailable } from '../src/kernels/gpu/webgpu/index.js';
import { Generator } from '../src/index.js';
import { describeTiming, measure, median, type Benchmark, type Row, type Timing } from './harness.js';

const rand = (n: number, seed: number): Float32Array => {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.uniform(-1, 1));
};

function pair(be: Backend, N: number, nin: number, nout: number, runs: number, log: (m: string) => void): Row {
  const x = be.upload(rand(N * nin, 1)), w = be.upload(rand(nout * nin, 2)), b = be.upload(rand(nout, 3));
  const y = be.alloc('float32', N * nout), z = be.alloc('float32', N * nout);
  const done = (): void => {
    if (be.name === 'webgpu') webgpuSync();
    else if (be.name === 'gpu') be.read(y, 0, 1);
  };
  const fused = (): void => {
    be.linearForward(x, N, nin, w, nout, b, y, true);
    done();
  };
  const alone = (): void => {
    be.gemm(false, true, N, nout, nin, 1, x, 0, nin, w, 0, nin, 0, z, 0, nout);
    be.biasAdd(z, b, N, nout, 1, z);
    be.unary('relu', z, z, N * nout);
    done();
  };
  // alternate: each round times `reps` fused calls, then `reps` unfused ones (reps: ~20 ms a sample)
  fused();
  alone();
  const t0 = performance.now();
  fused();
  const reps = Math.max(1, Math.ceil(0.02 / Math.max(1e-6, (performance.now() - t0) / 1000)));
  const f: Timing[] = [], a: Timing[] = [];
  const many = (fn: () => void) => () => { for (let k = 0; k < reps; k++) fn(); };
  for (let r = 0; r < runs; r++) {
    f.push(measure(many(fused), { warmup: 0, runs: 1 }));
    a.push(measure(many(alone), { warmup: 0, runs: 1 }));
  }
  const summary = (ts: Timing[]): Timing => {
    const samples = ts.map((t) => t.median / reps);
    return { median: median(samples), samples, cpuShare: ts.reduce((q, t) => q + t.cpuShare, 0) / ts.length };
  };
  const sf = summary(f), sa = summary(a);
  const med = (s: Timing): number => s.median;
  const label = `dense ${nin}→${nout}, batch ${N}, bias + ReLU, ${be.name}`;
  log(`${label}: ${reps} calls a sample; fused ${describeTiming(sf)}, gemm + biasAdd + relu ${describeTiming(sa)} (per call)`);
  const flop = 2 * N * nin * nout;
  return { workload: label, unit: 'GFLOP/s', ours: flop / med(sf) / 1e9, peer: 'gemm, biasAdd, relu one by one (same backend, alternated)', peerValue: flop / med(sa) / 1e9, note: 'medians of alternated calls; the machine is shared: compare the ratio' };
}

export const denseEpilogueBench: Benchmark = {
  name: 'dense-epilogue',
  ids: [],
  title: 'a dense layer with its bias and ReLU fused into the gemm (linearForward) vs gemm + biasAdd + relu, per backend',
  optIn: true,
  async run(log) {
    const rows: Row[] = [];
    const cpu = getBackend('cpu');
    rows.push(pair(cpu, 32, 4096, 4096, 9, log));
    rows.push(pair(cpu, 8, 1024, 512, 31, log));
    const why = webgpuUnavailable();
    if (why) log(`webgpu not run: ${why}`);
    else rows.push(pair(getBackend('webgpu'), 8, 256, 256, 9, log));
    rows.push(pair(getBackend('gpu'), 8, 128, 128, 9, log));
    return rows;
  },
};
