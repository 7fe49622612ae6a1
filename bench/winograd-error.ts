// `npm run bench -- wino-error` (opt-in): the float32 error of the fast backend's
// convolution algorithms on VGG-16's 3×3 layer shapes (at W3a's 64×64 input: the maps of
// the training step), against a float64 direct convolution of the same float32 data: for
// im2col + gemm, Winograd F(2×2, 3×3) and F(4×4, 3×3), forward, input gradient and weight
// gradient, the largest |error| over the largest |exact value| (one image; x and dy
// uniform in [−1, 1), filters uniform over ±1/√(9C), Xavier's scale). One thread, so the
// forced algorithm (setWinogradTile, setConvWinograd) holds for every call. conv.ts's
// per-layer choice of F(4×4, 3×3) rests on these figures (bench/README.md).
import { getBackend, getNumThreads, setNumThreads } from '../src/kernels/index.js';
import { setConvWinograd, setWinogradTile } from '../src/kernels/cpu/simd/conv.js';
import { naiveConvF64 } from './winograd-error-naive.js';
import { windowGeometry } from '../src/kernels/geometry.js';
import { randomData } from './model-step.js';
import { median, type Benchmark, type Row } from './harness.js';

const LAYERS: Array<[string, number, number, number]> = [
  ['conv1_1', 3, 64, 64], ['conv1_2', 64, 64, 64], ['conv2_1', 64, 128, 32], ['conv2_2', 128, 128, 32],
  ['conv3_1', 128, 256, 16], ['conv3_2', 256, 256, 16], ['conv4_1', 256, 512, 8], ['conv4_2', 512, 512, 8], ['conv5_1', 512, 512, 4],
];

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return s > 0 ? d / s : d;
}

export const winogradErrorBench: Benchmark = {
  name: 'wino-error',
  ids: [],
  title: 'float32 error of im2col, Winograd F(2,3) and F(4,3) against a float64 direct convolution on VGG-16\'s layer shapes',
  optIn: true,
  async run(log) {
    const rows: Row[] = [];
    const cpu = getBackend('cpu');
    const prevThreads = getNumThreads();
    setNumThreads(1);
    try {
      log('  layer     C→K at H²     pass   im2col    F(2,3)    F(4,3)');
      for (const [name, C, K, H] of LAYERS) {
        const g = windowGeometry(name, C, H, H, 3, 3, { padding: 1 });
        const sym = (n: number, seed: number, scale = 1) => randomData(n, seed).map((v) => (2 * v - 1) * scale);
        const x = sym(C * H * H, 1, 1), w = sym(K * C * 9, 2, 1 / Math.sqrt(9 * C)), dy = sym(K * H * H, 3, 1);
        const exact = naiveConvF64(x, w, dy, C, K, H, H);
        const errs: number[][] = [];
        for (const algo of ['im2col', 2, 4] as const) {
          const prevW = setConvWinograd(algo !== 'im2col');
          const prevT = setWinogradTile(algo === 'im2col' ? 'auto' : algo);
          try {
            const y = cpu.alloc('float32', K * H * H), dx = cpu.alloc('float32', x.length), dw = cpu.alloc('float32', w.length);
            const xb = cpu.upload(Float32Array.from(x)), wb = cpu.upload(Float32Array.from(w)), dyb = cpu.upload(Float32Array.from(dy));
            cpu.conv2dForward(xb, 1, wb, K, null, g, y);
            cpu.conv2dBackward(xb, 1, wb, K, g, dyb, dx, dw, null);
            errs.push([relErr(cpu.read(y, 0, K * H * H), exact.y), relErr(cpu.read(dx, 0, x.length), exact.dx), relErr(cpu.read(dw, 0, w.length), exact.dw)]);
          } finally {
            setConvWinograd(prevW);
            setWinogradTile(prevT);
          }
        }
        ['fprop', 'dx', 'dw'].forEach((pass, i) => {
          log(`  ${name.padEnd(8)}  ${`${C}→${K} at ${H}²`.padEnd(13)} ${pass.padEnd(5)}  ${errs.map((e) => e[i]!.toExponential(1).padStart(8)).join('  ')}`);
          rows.push({ workload: `${name} ${C}→${K} ${H}² ${pass}: F(4,3) error`, unit: 'rel', ours: errs[2]![i]!, peer: 'F(2,3)', peerValue: errs[1]![i]!, note: 'largest |error| / largest |exact| against a float64 direct convolution' });
        });
      }
    } finally {
      setNumThreads(prevThreads);
    }
    return rows;
  },
};

/**
 * `npm run bench -- wino` (opt-in): forward + both gradients of each Winograd-eligible
 * VGG-16 layer shape of W3a's step (batch 8, 64×64 input), F(2×2, 3×3) against F(4×4, 3×3)
 * alternated in one run (setWinogradTile, which every thread follows), 1 and 2 threads:
 * GFLOP/s nominal (direct convolution's count, 3 passes), medians.
 */
export const winogradSpeedBench: Benchmark = {
  name: 'wino',
  ids: [],
  title: 'Winograd F(2,3) vs F(4,3): fwd+bwd of VGG-16\'s layer shapes at W3a (batch 8, 64²), alternated, 1 and 2 threads',
  optIn: true,
  async run(log) {
    const rows: Row[] = [];
    const cpu = getBackend('cpu');
    const prevThreads = getNumThreads();
    const N = 8, RUNS = 5;
    try {
      for (const threads of [1, 2]) {
        setNumThreads(threads);
        for (const [name, C, K, H] of LAYERS.slice(0, 8)) {
          const g = windowGeometry(name, C, H, H, 3, 3, { padding: 1 });
          const x = cpu.upload(randomData(N * C * H * H, 1)), w = cpu.upload(randomData(K * C * 9, 2)), dy = cpu.upload(randomData(N * K * H * H, 3));
          const y = cpu.alloc('float32', N * K * H * H), dx = cpu.alloc('float32', N * C * H * H), dw = cpu.alloc('float32', K * C * 9);
          const times = new Map<number, number[]>([[2, []], [4, []]]);
          for (let r = 0; r <= RUNS; r++) {
            for (const tile of [2, 4] as const) {
              const prev = setWinogradTile(tile);
              const t0 = performance.now();
              cpu.conv2dForward(x, N, w, K, null, g, y);
              cpu.conv2dBackward(x, N, w, K, g, dy, dx, dw, null);
              const ms = performance.now() - t0;
              setWinogradTile(prev);
              if (r > 0) times.get(tile)!.push(ms); // run 0: warm-up
            }
          }
          const flops = 3 * 2 * N * K * C * 9 * H * H;
          const rate = (tile: number) => flops / median(times.get(tile)!) / 1e6;
          log(`  ${threads}T ${name} ${C}→${K} at ${H}²: F(2,3) ${rate(2).toFixed(1)}, F(4,3) ${rate(4).toFixed(1)} GFLOP/s`);
          rows.push({ workload: `${name} ${C}→${K} ${H}² b8 fwd+bwd, cpu ${threads}T`, unit: 'GFLOP/s', ours: rate(4), peer: 'F(2,3)', peerValue: rate(2), note: `F(4,3) vs F(2,3) alternated, medians of ${RUNS}` });
        }
      }
    } finally {
      setNumThreads(prevThreads);
    }
    return rows;
  },
};
