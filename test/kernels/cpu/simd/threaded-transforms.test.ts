// Winograd F(2×2, 3×3) and F(4×4, 3×3) in a convolution that runs whole (maps below the image groups' size,
// batch above one) over the threads: its plane-wise transforms in ranges of planes (index.ts,
// transformOver; tasks.ts, WinogradTransformJob; F(4,3)'s in ranges of channels) and its 16
// (36) gemms as one job (index.ts,
// gemms; tasks.ts, GemmBatchJob). Each plane is transformed on its own and each gemm block
// computed as the gemm alone computes it, so the forward and both gradients are the same
// bit for bit on 1, 2 and 3 threads; and the helpers take part.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, getNumThreads, setNumThreads } from '../../../../src/kernels/index.js';
import type { Backend } from '../../../../src/kernels/backend.js';
import { windowGeometry } from '../../../../src/kernels/geometry.js';
import { setWinogradTile } from '../../../../src/kernels/cpu/simd/conv.js';
import { Generator } from '../../../../src/index.js';
import { expectSameValues } from '../../../helpers/same.js';

const fast: Backend = getBackend('cpu');
const defaultThreads = getNumThreads();
const defaultTile = setWinogradTile();
afterAll(() => {
  setNumThreads(defaultThreads);
  setWinogradTile(defaultTile);
});

function values(n: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.uniform(-1, 1));
}

for (const tile of [2, 4] as const) describe(`fast backend: Winograd F(${tile},3)'s transforms over the threads`, () => {
  beforeAll(() => void setWinogradTile(tile));
  // 24² maps (below the 1024-pixel image groups), 8 images of 32 channels: 147K input values
  // per transform, past the split threshold; gemms of 8 × 1152 × 32, each below the gemm's
  // split threshold, the 16 of a pass above it.
  // F(4,3) with 32 filters: its output and output-gradient transforms (36·T and 8·576 values
  // a channel) pass the split threshold too, and its 36 gemms (32 × 288 × 32) stay below it alone.
  const N = 8, C = 32, K = tile === 4 ? 32 : 8, H = 24, W = 24;
  const g = windowGeometry('conv', C, H, W, 3, 3, { padding: 1 });
  const PQ = g.P * g.Q;
  const x = fast.upload(values(N * C * H * W, 1)), w = fast.upload(values(K * C * 9, 2)), b = fast.upload(values(K, 3));
  const dy = fast.upload(values(N * K * PQ, 4));

  it('forward (with the bias + ReLU epilogue), input gradient and weight gradient: the same bits on 1, 2 and 3 threads', () => {
    expect(fast.convAlgorithm!(g, K)).toBe(`Winograd F(${tile},3)`);
    const run = (threads: number) => {
      setNumThreads(threads);
      const y = fast.alloc('float32', N * K * PQ), dx = fast.alloc('float32', N * C * H * W), dw = fast.alloc('float32', K * C * 9);
      fast.conv2dForward(x, N, w, K, b, g, y, true);
      fast.conv2dBackward(x, N, w, K, g, dy, dx, dw, null);
      return [y, dx, dw].map((a) => Float32Array.from(fast.read(a, 0, fast.lengthOf(a))));
    };
    const one = run(1);
    for (const threads of [2, 3]) {
      const out = run(threads);
      ['forward', 'input gradient', 'weight gradient'].forEach((what, i) => expectSameValues(out[i]!, one[i]!, `${what}, ${threads} threads vs 1`));
    }
  });

  it('the helpers take part (their busy time grows over repeated convolutions on 2 threads)', () => {
    setNumThreads(2);
    const act = fast.threadActivity!;
    const y = fast.alloc('float32', N * K * PQ);
    fast.conv2dForward(x, N, w, K, b, g, y, false);
    act.recording = true;
    const c0 = act.read();
    for (let i = 0; i < 20; i++) fast.conv2dForward(x, N, w, K, b, g, y, false);
    act.recording = false;
    expect(act.read().helperBusyMs).toBeGreaterThan(c0.helperBusyMs);
  });
});
