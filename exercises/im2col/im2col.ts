// Track task 4, im2col: your work. See README.md; run `npm run exercise im2col`.
import type { FloatArray, WindowGeometry } from '../../src/index.js';

/**
 * cols[C·R·S, P·Q] ← the patches of one image x[C, H, W] (starting at xOffset): row
 * (c, r, s) = (c·R + r)·S + s, column (p, q) = p·Q + q, element (row, col) written at
 * cols[colsOffset + row·ldCols + col]. It holds input pixel h = p·strideH − padH + r·dilH,
 * w = q·strideW − padW + s·dilW, or 0 where (h, w) is outside the image (the padding).
 */
export function im2col(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset = 0, ldCols = g.P * g.Q): void {
  // TODO: five nested loops (c, r, s, p, q); compute h and w; write the pixel or 0.
  throw new Error(`TODO: im2col of an image [${g.C}, ${g.H}, ${g.W}] at offset ${xOffset} into cols [${g.C * g.R * g.S}, ${g.P * g.Q}] (array of ${cols.length}, ${x.length} input values, colsOffset ${colsOffset}, ldCols ${ldCols})`);
}

/**
 * The adjoint of im2col: dx[C, H, W] (at dxOffset) += every element of cols added back onto
 * the pixel it was read from (a pixel read by several windows gets the sum); elements that
 * came from the padding are dropped.
 */
export function col2im(cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number, colsOffset = 0, ldCols = g.P * g.Q): void {
  // TODO: the same loops as im2col, with `+=` into dx instead of a read from x.
  throw new Error(`TODO: col2im of cols [${g.C * g.R * g.S}, ${g.P * g.Q}] (array of ${cols.length}, colsOffset ${colsOffset}, ldCols ${ldCols}) into dx [${g.C}, ${g.H}, ${g.W}] at offset ${dxOffset} (array of ${dx.length})`);
}
