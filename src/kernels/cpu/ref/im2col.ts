// im2col turns convolution into one matrix multiply: each column of cols[C·R·S, P·Q] is
// the receptive field of one output pixel, row (c, r, s) ordered like a weight [K, C, R, S]
// flattened, so that y[K, P·Q] = W[K, C·R·S] · cols. col2im is its adjoint: it scatters
// columns back and sums overlapping windows (used for the input gradient).
//
// The P·Q columns of one image may sit inside a wider matrix: column j of row i is at
// cols[colsOffset + i·ldCols + j], so several images can be laid side by side in one
// [C·R·S, nb·P·Q] matrix (image k at colsOffset = k·P·Q, ldCols = nb·P·Q) and go through
// one gemm. Defaults: colsOffset 0, ldCols = P·Q (one image, the whole array).
//
// Element (c, r, s; p, q) comes from input pixel h = p·strideH − padH + r·dilH,
// w = q·strideW − padW + s·dilW, or is 0 where (h, w) falls in the padding.
import type { FloatArray, WindowGeometry } from '../../backend.js';
import { ShapeError, ValueError } from '../../../util/errors.js';

/** Checks that cols [C·R·S, P·Q] at colsOffset with row stride ldCols fits its array. */
export function checkCols(op: string, g: WindowGeometry, cols: FloatArray, colsOffset: number, ldCols: number): void {
  const PQ = g.P * g.Q, rows = g.C * g.R * g.S;
  if (!Number.isInteger(colsOffset) || colsOffset < 0 || !Number.isInteger(ldCols) || ldCols < PQ) {
    throw new ValueError(`${op}: colsOffset ${colsOffset} must be a non-negative integer and ldCols ${ldCols} an integer ≥ P·Q = ${PQ}`);
  }
  const need = rows === 0 || PQ === 0 ? 0 : colsOffset + (rows - 1) * ldCols + PQ;
  if (need > cols.length) throw new ShapeError(`${op}: cols [${rows}, ${PQ}] with ldCols ${ldCols} at offset ${colsOffset} needs ${need} elements, array has ${cols.length}`);
}

export function im2col(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset = 0, ldCols = g.P * g.Q): void {
  checkCols('im2col', g, cols, colsOffset, ldCols);
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

/** dx[C, H, W] (at dxOffset) += each column of cols added back onto the pixels it was read from. */
export function col2im(cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number, colsOffset = 0, ldCols = g.P * g.Q): void {
  checkCols('col2im', g, cols, colsOffset, ldCols);
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
