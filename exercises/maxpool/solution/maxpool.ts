// Track task 5, maxpool: a reference solution (as src/kernels/cpu/ref/pool.ts).
import type { FloatArray, WindowGeometry } from '../../../src/index.js';

export function maxPoolForward(x: FloatArray, N: number, g: WindowGeometry, y: FloatArray, argmax: Int32Array): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, P, Q } = g;
  for (let plane = 0; plane < N * C; plane++) {
    const xBase = plane * H * W, yBase = plane * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      for (let q = 0; q < Q; q++) {
        const w0 = q * strideW - padW;
        let best = -Infinity, arg = -1;
        for (let h = Math.max(h0, 0); h < Math.min(h0 + R, H); h++) {
          for (let w = Math.max(w0, 0); w < Math.min(w0 + S, W); w++) {
            const v = x[xBase + h * W + w]!;
            if (arg < 0 || !(v <= best)) { // strictly greater (or NaN): the first maximum wins
              best = v;
              arg = h * W + w;
            }
          }
        }
        y[yBase + p * Q + q] = arg < 0 ? 0 : best;
        argmax[yBase + p * Q + q] = arg;
      }
    }
  }
}

export function maxPoolBackward(dy: FloatArray, argmax: Int32Array, N: number, g: WindowGeometry, dx: FloatArray): void {
  const { C, H, W, P, Q } = g;
  for (let plane = 0; plane < N * C; plane++) {
    for (let i = 0; i < P * Q; i++) {
      const a = argmax[plane * P * Q + i]!;
      if (a >= 0) dx[plane * H * W + a]! += dy[plane * P * Q + i]!;
    }
  }
}
