// W2: a 3×3 convolution layer, batch 8, 64 → 64 channels, 56 × 56, stride 1, pad 1, float32,
// forward + backward (input and weight gradients). Ours: the public API (conv2d with
// autograd) on the `cpu` backend (Winograd's 16 gemms by the WebAssembly SIMD gemm, images
// in groups over the threads) on 1 and 2 threads, and on the reference backend `ref`.
// Peers: tfjs' pure-JS CPU backend and its WebAssembly backend, in their native NHWC
// layout (the FLOP count does not depend on the layout).
//
// FLOPs: forward 2·N·K·C·R·S·P·Q = 1.850 GFLOP; the input gradient and the weight gradient
// are each another gemm of the same size, so forward + backward = 3 × forward = 5.549 GFLOP.
import { conv2d, noGrad, tensor } from '../src/index.js';
import { getNumThreads, setBackend, setNumThreads } from '../src/kernels/index.js';
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';
import { tfLabel, useTfBackend, type Tf } from './peers/tfjs.js';

const N = 8, C = 64, K = 64, H = 56, W = 56, R = 3, S = 3;
const P = H, Q = W; // stride 1, pad 1
const forwardFlops = (n: number) => 2 * n * K * C * R * S * P * Q;
const WORKLOAD_FB = 'W2 conv3×3 b8 64→64 56² fwd+bwd';
const WORKLOAD_F = 'W2 conv3×3 b8 64→64 56² fwd only';
/** tfjs-cpu runs each kernel once on this batch; its time is scaled ×N/TF_CPU_BATCH. */
const TF_CPU_BATCH = 1;

function random(n: number, seed: number, scale = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return x;
}

/** Ours on `backend` with `threads` threads, batch N: seconds for forward + backward, and for forward alone (median after warm-up). */
function ours(log: (m: string) => void, backend: 'cpu' | 'ref', threads: number): { fwdBwd: number; fwd: number } {
  const prev = getNumThreads();
  setBackend(backend);
  setNumThreads(threads);
  try {
    return oursOn(log, `${backend}${backend === 'cpu' ? ` ${threads} thread${threads > 1 ? 's' : ''}` : ''}`, backend === 'ref' ? 3 : 5);
  } finally {
    setBackend('cpu');
    setNumThreads(prev);
  }
}

function oursOn(log: (m: string) => void, label: string, runs: number): { fwdBwd: number; fwd: number } {
  const x = tensor(random(N * C * H * W, 1), [N, C, H, W], { requiresGrad: true });
  const w = tensor(random(K * C * R * S, 2, 0.1), [K, C, R, S], { requiresGrad: true });
  const b = tensor(random(K, 3), [K], { requiresGrad: true });
  const gy = random(N * K * P * Q, 4);
  const step = () => {
    x.zeroGrad(); w.zeroGrad(); b.zeroGrad();
    const y = conv2d(x, w, b, { stride: 1, padding: 1 });
    y.backward(gy);
  };
  const fb = measure(step, { warmup: 1, runs });
  log(`  ${label} fwd+bwd: ${describeTiming(fb)}`);
  const f = measure(() => noGrad(() => conv2d(x, w, b, { stride: 1, padding: 1 })), { warmup: 1, runs });
  log(`  ${label} fwd: ${describeTiming(f)}`);
  return { fwdBwd: fb.median, fwd: f.median };
}

type Tensor4 = ReturnType<Tf['tensor4d']>;

/** The three kernels tf.grads(conv2d) runs: Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter. */
function tfKernels(tf: Tf, n: number, h: number, w: number) {
  const x = tf.tensor4d(random(n * h * w * C, 1), [n, h, w, C]);
  const f = tf.tensor4d(random(R * S * C * K, 2, 0.1), [R, S, C, K]);
  const dy = tf.tensor4d(random(n * h * w * K, 4), [n, h, w, K]);
  const conv = { strides: [1, 1] as [number, number], pad: 'same' as const, dataFormat: 'NHWC' as const, dilations: [1, 1] as [number, number] };
  const run = (fn: () => Tensor4) => () => {
    const out = fn();
    out.dataSync();
    out.dispose();
  };
  return {
    forward: run(() => tf.conv2d(x, f, 1, 'same')),
    backpropInput: run(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...conv, inputShape: x.shape }) as Tensor4),
    backpropFilter: run(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: f.shape }) as Tensor4),
    dispose: () => tf.dispose([x, f, dy]),
  };
}

/** tfjs-cpu: each kernel once at batch TF_CPU_BATCH (after a warm-up on 8×8 images), scaled to batch N. */
async function tfCpu(log: (m: string) => void): Promise<{ fwdBwd: number; fwd: number }> {
  const tf = await useTfBackend('cpu');
  const warm = tfKernels(tf, 1, 8, 8);
  for (const k of [warm.forward, warm.backpropInput, warm.backpropFilter]) k();
  warm.dispose();
  const ks = tfKernels(tf, TF_CPU_BATCH, H, W);
  const once = (f: () => void) => measure(f, { warmup: 0, runs: 1 }).median;
  const fwd = once(ks.forward), dx = once(ks.backpropInput), dw = once(ks.backpropFilter);
  ks.dispose();
  log(`  ${tfLabel('cpu')} batch ${TF_CPU_BATCH}, once each: forward ${fwd.toFixed(2)} s, input grad ${dx.toFixed(2)} s, weight grad ${dw.toFixed(2)} s`);
  const scale = N / TF_CPU_BATCH;
  return { fwdBwd: (fwd + dx + dw) * scale, fwd: fwd * scale };
}

/** tfjs-wasm: forward at batch N; whether it can compute the weight gradient at all. */
async function tfWasm(log: (m: string) => void): Promise<{ fwd: number; hasFilterGrad: boolean }> {
  const tf = await useTfBackend('wasm');
  const hasFilterGrad = tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined;
  const ks = tfKernels(tf, N, H, W);
  const t = measure(ks.forward, { warmup: 2, runs: 7 });
  ks.dispose();
  log(`  ${tfLabel('wasm')} fwd: ${describeTiming(t)}; Conv2DBackpropFilter kernel: ${hasFilterGrad ? 'yes' : 'none'}`);
  return { fwd: t.median, hasFilterGrad };
}

export const convBench: Benchmark = {
  name: 'conv',
  ids: ['W2'],
  title: `conv ${R}×${S}, batch ${N}, ${C}→${K} channels, ${H}×${W}, stride 1, pad 1, float32, forward + backward`,
  async run(log) {
    const fbFlops = 3 * forwardFlops(N), fFlops = forwardFlops(N);
    const two = ours(log, 'cpu', 2), one = ours(log, 'cpu', 1), ref = ours(log, 'ref', 1);
    const cpu = await tfCpu(log);
    const wasm = await tfWasm(log);
    const g = (flops: number, s: number) => flops / s / 1e9;
    const cpuNote = `tfjs-cpu: forward, input-gradient and weight-gradient kernels (those tf.grads runs) timed once each at batch ${TF_CPU_BATCH}, scaled ×${N / TF_CPU_BATCH} to batch ${N} (a batch-${N} step takes minutes)`;
    const nominal = "W2 rates are nominal for every column: a direct convolution's FLOP count divided by the time. Ours (cpu and ref) runs this 3×3 stride-1 layer with Winograd F(2×2,3×3), 2.25× fewer multiply-adds in the forward pass and both gradients (setConvWinograd(false) gives im2col + gemm)";
    const wasmNote = wasm.hasFilterGrad ? 'tfjs-wasm backward not measured' : 'tfjs-wasm has no Conv2DBackpropFilter (weight-gradient) kernel: it cannot train convolutions';
    const fb = (threads: number) => `${WORKLOAD_FB}, cpu ${threads} thread${threads > 1 ? 's' : ''}`;
    const f = (threads: number) => `${WORKLOAD_F}, cpu ${threads} thread${threads > 1 ? 's' : ''}`;
    const rows: Row[] = [
      { workload: fb(1), unit: 'GFLOP/s', ours: g(fbFlops, one.fwdBwd), peer: 'ref backend (plain TypeScript)', peerValue: g(fbFlops, ref.fwdBwd), note: nominal },
      { workload: fb(1), unit: 'GFLOP/s', ours: g(fbFlops, one.fwdBwd), peer: tfLabel('cpu'), peerValue: g(fbFlops, cpu.fwdBwd), note: cpuNote },
      { workload: fb(1), unit: 'GFLOP/s', ours: g(fbFlops, one.fwdBwd), peer: tfLabel('wasm'), peerValue: null, note: wasmNote },
      { workload: fb(2), unit: 'GFLOP/s', ours: g(fbFlops, two.fwdBwd), peer: 'cpu, 1 thread', peerValue: g(fbFlops, one.fwdBwd) },
      { workload: f(1), unit: 'GFLOP/s', ours: g(fFlops, one.fwd), peer: tfLabel('wasm'), peerValue: g(fFlops, wasm.fwd) },
      { workload: f(1), unit: 'GFLOP/s', ours: g(fFlops, one.fwd), peer: 'ref backend (plain TypeScript)', peerValue: g(fFlops, ref.fwd) },
      { workload: f(2), unit: 'GFLOP/s', ours: g(fFlops, two.fwd), peer: tfLabel('wasm'), peerValue: g(fFlops, wasm.fwd) },
    ];
    return rows;
  },
};
