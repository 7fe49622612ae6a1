// Track task 4, im2col: a reference solution (as src/kernels/cpu/ref/im2col.ts).
import type { FloatArray, WindowGeometry } from '../../../src/index.js';

export function im2col(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset = 0, ldCols = g.P * g.Q): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const row = colsOffset + ((c * R + r) * S + s) * ldCols;
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilH;
          for (let q = 0; q < Q; q++) {
            const w = q * strideW - padW + s * dilW;
            const inside = h >= 0 && h < H && w >= 0 && w < W;
            cols[row + p * Q + q] = inside ? x[xOffset + (c * H + h) * W + w]! : 0;
          }
        }
      }
    }
  }
}

export function col2im(cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number, colsOffset = 0, ldCols = g.P * g.Q): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const row = colsOffset + ((c * R + r) * S + s) * ldCols;
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilH;
          for (let q = 0; q < Q; q++) {
            const w = q * strideW - padW + s * dilW;
            if (h >= 0 && h < H && w >= 0 && w < W) dx[dxOffset + (c * H + h) * W + w]! += cols[row + p * Q + q]!;
          }
        }
      }
    }
  }
}
