// im2col turns convolution into one matrix multiply: each column of cols[C·R·S, P·Q] is
// the receptive field of one output pixel, row (c, r, s) ordered like a weight [K, C, R, S]
// flattened, so that y[K, P·Q] = W[K, C·R·S] · cols. col2im is its adjoint: it scatters
// columns back and sums overlapping windows (used for the input gradient).
import type { FloatArray, WindowGeometry } from '../backend.js';

export function im2col(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  const PQ = P * Q;
  for (let c = 0; c < C; c++) {
    const plane = xOffset + c * H * W;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const rowBase = ((c * R + r) * S + s) * PQ;
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilH;
          const out = rowBase + p * Q;
          if (h < 0 || h >= H) {
            cols.fill(0, out, out + Q);
            continue;
          }
          const xRow = plane + h * W;
          let w = s * dilW - padW;
          for (let q = 0; q < Q; q++, w += strideW) cols[out + q] = w >= 0 && w < W ? x[xRow + w]! : 0;
        }
      }
    }
  }
}

export function col2im(cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  const PQ = P * Q;
  for (let c = 0; c < C; c++) {
    const plane = dxOffset + c * H * W;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const rowBase = ((c * R + r) * S + s) * PQ;
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilH;
          if (h < 0 || h >= H) continue;
          const src = rowBase + p * Q;
          const xRow = plane + h * W;
          let w = s * dilW - padW;
          for (let q = 0; q < Q; q++, w += strideW) if (w >= 0 && w < W) dx[xRow + w]! += cols[src + q]!;
        }
      }
    }
  }
}
