// The fast backend's im2col and col2im: the reference's contract (src/kernels/cpu/ref/im2col.ts,
// which explains the layout), with the loops over output pixels cut to the ranges that read
// the image (no test per element), a flat gather for small outputs and whole-row copies for
// stride 1 and "same" width.
import type { FloatArray, WindowGeometry } from '../../backend.js';
import { checkCols } from '../ref/im2col.js';

/** Below this many output pixels per image a row of cols is copied element by element (a subarray + set costs about as much as ~30 element copies). */
const SHIFTED_COPY_MIN_PQ = 64;

export function im2col(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset = 0, ldCols = g.P * g.Q): void {
  checkCols('im2col', g, cols, colsOffset, ldCols);
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  if (strideH === 1 && strideW === 1 && Q === W && P * Q >= SHIFTED_COPY_MIN_PQ) {
    im2colShifted(x, xOffset, g, cols, colsOffset, ldCols);
    return;
  }
  if (P * Q <= GATHER_MAX_PQ) {
    im2colGather(x, xOffset, g, cols, colsOffset, ldCols);
    return;
  }
  for (let c = 0; c < C; c++) {
    const plane = xOffset + c * H * W;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const rowBase = colsOffset + ((c * R + r) * S + s) * ldCols;
        // Output columns q whose input column w = q·strideW − padW + s·dilW lies in [0, W):
        // q in [qLo, qHi); the rest read the zero padding.
        const w0 = s * dilW - padW;
        const qLo = Math.min(Q, w0 >= 0 ? 0 : Math.ceil(-w0 / strideW));
        const qHi = Math.max(qLo, Math.min(Q, w0 >= W ? 0 : Math.floor((W - 1 - w0) / strideW) + 1));
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilH;
          const out = rowBase + p * Q;
          if (h < 0 || h >= H) {
            cols.fill(0, out, out + Q);
            continue;
          }
          const xRow = plane + h * W + w0;
          let q = 0;
          for (; q < qLo; q++) cols[out + q] = 0;
          if (strideW === 1) for (; q < qHi; q++) cols[out + q] = x[xRow + q]!;
          else for (; q < qHi; q++) cols[out + q] = x[xRow + q * strideW]!;
          for (; q < Q; q++) cols[out + q] = 0;
        }
      }
    }
  }
}

/** Up to this many output pixels per image (e.g. 8×8), im2col gathers through an index table instead of looping over output rows. */
const GATHER_MAX_PQ = 64;
let gatherTable = new Int32Array(0);

/**
 * im2col for small outputs (a VGG's last blocks: 4×4, 2×2): the per-output-row loop costs
 * more than the copies there, so the input offset h·W + w (or −1 in the padding) of every
 * (r, s, p, q) is computed once per call, and each row (c, r, s) of cols is one flat loop
 * over it.
 */
function im2colGather(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset: number, ldCols: number): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  const PQ = P * Q, RS = R * S, HW = H * W;
  if (gatherTable.length < RS * PQ) gatherTable = new Int32Array(RS * PQ);
  const tab = gatherTable;
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < S; s++) {
      let i = (r * S + s) * PQ;
      for (let p = 0; p < P; p++) {
        const h = p * strideH - padH + r * dilH;
        for (let q = 0; q < Q; q++, i++) {
          const w = q * strideW - padW + s * dilW;
          tab[i] = h >= 0 && h < H && w >= 0 && w < W ? h * W + w : -1;
        }
      }
    }
  }
  for (let c = 0; c < C; c++) {
    const plane = xOffset + c * HW;
    for (let rs = 0; rs < RS; rs++) {
      const out = colsOffset + (c * RS + rs) * ldCols, t0 = rs * PQ;
      for (let i = 0; i < PQ; i++) {
        const k = tab[t0 + i]!;
        cols[out + i] = k >= 0 ? x[plane + k]! : 0;
      }
    }
  }
}

/**
 * im2col for stride 1 and "same" width (Q = W, e.g. 3×3 with padding 1): row (c, r, s) of
 * cols is the image plane c shifted by (r·dilH − padH)·W + s·dilW − padW, so the rows p
 * that fall inside the image are one contiguous block of the plane, copied with one
 * TypedArray.set (a memcpy), instead of element by element. The block's first and last
 * values of each output row that wrap around into the neighbouring input row (or outside
 * the plane) are the horizontal padding: they are set to 0 afterwards.
 */
function im2colShifted(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset: number, ldCols: number): void {
  const { C, H, W, R, S, padH, padW, dilH, dilW, P, Q } = g;
  const HW = H * W;
  for (let c = 0; c < C; c++) {
    const plane = xOffset + c * HW;
    for (let r = 0; r < R; r++) {
      const dh = r * dilH - padH;
      // output rows p with input row h = p + dh inside the image
      const pLo = Math.min(P, Math.max(0, -dh)), pHi = Math.max(pLo, Math.min(P, H - dh));
      for (let s = 0; s < S; s++) {
        const row = colsOffset + ((c * R + r) * S + s) * ldCols;
        const w0 = s * dilW - padW;
        const qLo = Math.min(Q, Math.max(0, -w0)), qHi = Math.max(qLo, Math.min(Q, W - w0));
        if (pLo > 0) cols.fill(0, row, row + pLo * Q);
        if (pHi < P) cols.fill(0, row + pHi * Q, row + P * Q);
        if (pHi === pLo) continue;
        // source [a, b) of the plane for destination rows [pLo, pHi), clipped to the plane
        let a = plane + (pLo + dh) * W + w0, b = a + (pHi - pLo) * Q, dst = row + pLo * Q;
        if (a < plane) {
          dst += plane - a;
          a = plane;
        }
        if (b > plane + HW) b = plane + HW;
        if (b > a) (cols as Float32Array).set((x as Float32Array).subarray(a, b), dst);
        if (qLo > 0 || qHi < Q) {
          for (let p = pLo; p < pHi; p++) {
            const out = row + p * Q;
            for (let q = 0; q < qLo; q++) cols[out + q] = 0;
            for (let q = qHi; q < Q; q++) cols[out + q] = 0;
          }
        }
      }
    }
  }
}

export function col2im(cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number, colsOffset = 0, ldCols = g.P * g.Q): void {
  checkCols('col2im', g, cols, colsOffset, ldCols);
  const { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q } = g;
  for (let c = 0; c < C; c++) {
    const plane = dxOffset + c * H * W;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const rowBase = colsOffset + ((c * R + r) * S + s) * ldCols;
        const w0 = s * dilW - padW;
        const qLo = Math.min(Q, w0 >= 0 ? 0 : Math.ceil(-w0 / strideW));
        const qHi = Math.max(qLo, Math.min(Q, w0 >= W ? 0 : Math.floor((W - 1 - w0) / strideW) + 1));
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilH;
          if (h < 0 || h >= H) continue;
          const src = rowBase + p * Q;
          const xRow = plane + h * W + w0;
          if (strideW === 1) for (let q = qLo; q < qHi; q++) dx[xRow + q]! += cols[src + q]!;
          else for (let q = qLo; q < qHi; q++) dx[xRow + q * strideW]! += cols[src + q]!;
        }
      }
    }
  }
}
