// Winograd F(4×4, 3×3) (src/kernels/cpu/simd/winograd43.ts): in float64 with the reference
// gemm it equals the direct convolution to rounding, forward and both gradients, every
// padding 0..2, sizes not multiples of 4, down to 1×1 outputs; on the fast backend
// (float32, SIMD gemm, 1, 2 and 3 threads) it stays within the error bound bench/README.md
// states of the reference backend, on random shapes and on VGG-16's layer shapes.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { windowGeometry } from '../../../../src/kernels/geometry.js';
import { setWinogradTile } from '../../../../src/kernels/cpu/simd/conv.js';
import { winograd43Conv3x3, winograd43WeightGrad3x3, winograd43Weights } from '../../../../src/kernels/cpu/simd/winograd43.js';
import type { WinogradContext } from '../../../../src/kernels/cpu/simd/winograd.js';
import { gemm } from '../../../../src/kernels/cpu/ref/gemm.js';
import { getBackend, getNumThreads, setNumThreads } from '../../../../src/kernels/index.js';
import type { Backend, WindowGeometry } from '../../../../src/kernels/backend.js';
import { Generator } from '../../../../src/index.js';
import { expectClose } from '../../../helpers/check.js';
import { naiveConv, naiveConvBackward, rand } from '../../../helpers/naive.js';

const wino: WinogradContext = { gemm, alloc: (n) => new Float64Array(n) };
const defaultThreads = getNumThreads();
afterAll(() => {
  setNumThreads(defaultThreads);
  setWinogradTile();
});

describe('Winograd F(4×4, 3×3) in float64 equals the direct convolution', () => {
  it('forward, input gradient (flipped filters) and weight gradient, padding 0..2, odd sizes, down to 1×1 outputs', () => {
    const gen = new Generator(7);
    for (const [H, W, pH, pW] of [[3, 3, 0, 0], [1, 1, 1, 1], [2, 5, 1, 0], [4, 3, 2, 2], [6, 1, 1, 2], [9, 11, 1, 1], [13, 8, 0, 2], [16, 16, 1, 1]] as const) {
      const N = 2, C = 3, K = 2;
      const g = windowGeometry('test', C, H, W, 3, 3, { padding: [pH, pW] });
      const x = rand(N * C * H * W, gen), w = rand(K * C * 9, gen);
      const y = new Float64Array(N * K * g.P * g.Q).fill(NaN);
      winograd43Conv3x3(x, N, C, H, W, winograd43Weights(w, K, C, false, wino), K, pH, pW, g.P, g.Q, y, wino);
      expectClose(y, naiveConv(x, N, w, K, null, g), `F(4,3) ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
      const dy = rand(y.length, gen);
      const dx = new Float64Array(x.length).fill(NaN);
      winograd43Conv3x3(dy, N, K, g.P, g.Q, winograd43Weights(w, K, C, true, wino), C, 2 - pH, 2 - pW, H, W, dx, wino);
      const ref = naiveConvBackward(x, N, w, K, g, dy);
      expectClose(dx, ref.dx, `F(4,3) input gradient ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
      const dw = new Float64Array(w.length).fill(1);
      winograd43WeightGrad3x3(x, N, C, H, W, dy, K, pH, pW, g.P, g.Q, dw, wino);
      expectClose(dw, ref.dw.map((v) => v + 1), `F(4,3) weight gradient ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
    }
  });
});

/** Largest |a − b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return s > 0 ? d / s : d;
}

/** Forward, dx and dw of a 3×3 stride-1 convolution on backend be (float32). */
function run(be: Backend, x: Float32Array, N: number, w: Float32Array, K: number, g: WindowGeometry, dy: Float32Array) {
  const y = be.alloc('float32', N * K * g.P * g.Q), dx = be.alloc('float32', x.length), dw = be.alloc('float32', w.length);
  const xb = be.upload(Float32Array.from(x)), wb = be.upload(Float32Array.from(w)), dyb = be.upload(Float32Array.from(dy));
  be.conv2dForward(xb, N, wb, K, null, g, y);
  be.conv2dBackward(xb, N, wb, K, g, dyb, dx, dw, null);
  return [be.read(y, 0, N * K * g.P * g.Q), be.read(dx, 0, x.length), be.read(dw, 0, w.length)].map((a) => Float32Array.from(a));
}

/** The bound F(4,3) is held to against the reference backend (float32 both): bench/README.md, "Winograd's float32 error". */
const BOUND = 1e-4;

describe('F(4×4, 3×3) on the fast backend within the stated bound of ref', () => {
  const cpu = getBackend('cpu'), ref = getBackend('ref');
  for (const threads of [1, 2, 3]) {
    it(`random shapes, forward and both gradients (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      setNumThreads(threads);
      setWinogradTile(4);
      try {
        fc.assert(fc.property(
          fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 9 }), K: fc.integer({ min: 1, max: 9 }), H: fc.integer({ min: 8, max: 40 }), W: fc.integer({ min: 8, max: 40 }), pad: fc.integer({ min: 0, max: 2 }), seed: fc.nat() }),
          ({ N, C, K, H, W, pad, seed }) => {
            const g = windowGeometry('test', C, H, W, 3, 3, { padding: pad });
            if (g.P * g.Q < 64) return;
            const gen = new Generator(seed);
            const x = Float32Array.from(rand(N * C * H * W, gen)), w = Float32Array.from(rand(K * C * 9, gen)), dy = Float32Array.from(rand(N * K * g.P * g.Q, gen));
            const a = run(cpu, x, N, w, K, g, dy), b = run(ref, x, N, w, K, g, dy);
            for (let i = 0; i < 3; i++) expect(relErr(a[i]!, b[i]!), ['forward', 'dx', 'dw'][i]).toBeLessThanOrEqual(BOUND);
          },
        ), { numRuns: 25, seed: 40 + threads });
      } finally {
        setWinogradTile();
      }
    }, 120_000);
  }

  it('VGG-16\'s 3×3 layer shapes (one image, channels as in the network, maps cut to 16² at most), 1, 2 and 3 threads', () => {
    setWinogradTile(4);
    try {
      const gen = new Generator(9);
      for (const [C, K, H] of [[3, 64, 16], [64, 64, 16], [64, 128, 16], [128, 128, 16], [128, 256, 12], [256, 256, 12], [256, 512, 8], [512, 512, 8]] as const) {
        const g = windowGeometry('test', C, H, H, 3, 3, { padding: 1 });
        const x = Float32Array.from(rand(C * H * H, gen)), w = Float32Array.from(rand(K * C * 9, gen).map((v) => v / Math.sqrt(C))), dy = Float32Array.from(rand(K * H * H, gen));
        const b = run(ref, x, 1, w, K, g, dy);
        for (const threads of [1, 2, 3]) {
          setNumThreads(threads);
          const a = run(cpu, x, 1, w, K, g, dy);
          for (let i = 0; i < 3; i++) expect(relErr(a[i]!, b[i]!), `${C}→${K} at ${H}², ${['forward', 'dx', 'dw'][i]}, ${threads} threads`).toBeLessThanOrEqual(BOUND);
        }
      }
    } finally {
      setWinogradTile();
    }
  }, 300_000);
});
