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
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';

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
  // alternate: each round times one fused and one unfused call
  const f: number[] = [], a: number[] = [];
  fused();
  alone();
  for (let r = 0; r < runs; r++) {
    f.push(measure(fused, { warmup: 0, runs: 1 }).median);
    a.push(measure(alone, { warmup: 0, runs: 1 }).median);
  }
  const med = (s: number[]): number => [...s].sort((p, q) => p - q)[s.length >> 1]!;
  const label = `dense ${nin}→${nout}, batch ${N}, bias + ReLU, ${be.name}`;
  log(`${label}: fused ${describeTiming({ median: med(f), samples: f, cpuShare: 1 })}, gemm + biasAdd + relu ${describeTiming({ median: med(a), samples: a, cpuShare: 1 })}`);
  const flop = 2 * N * nin * nout;
  return { workload: label, unit: 'GFLOP/s', ours: flop / med(f) / 1e9, peer: 'gemm, biasAdd, relu one by one (same backend, alternated)', peerValue: flop / med(a) / 1e9, note: 'medians of alternated calls; the machine is shared: compare the ratio' };
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
