// Track task 5, maxpool: your work. See README.md; run `npm run exercise maxpool`.
import type { FloatArray, WindowGeometry } from '../../src/index.js';

/**
 * y[N, C, P, Q] = the maximum of each R×S window of x[N, C, H, W] (window (p, q) starts at
 * row p·strideH − padH, column q·strideW − padW; padding never wins), and argmax[N, C, P, Q]
 * = where the maximum is, as the flat index h·W + w in its image plane (the first one, in
 * row-major order, on ties); −1 and y = 0 for a window that is all padding.
 */
export function maxPoolForward(x: FloatArray, N: number, g: WindowGeometry, y: FloatArray, argmax: Int32Array): void {
  // TODO: for each plane (n, c) and each window (p, q): scan the window's rows and columns inside the image.
  throw new Error(`TODO: max-pool x [${N}, ${g.C}, ${g.H}, ${g.W}] (${x.length} values) with ${g.R}×${g.S} windows into y [${N}, ${g.C}, ${g.P}, ${g.Q}] (${y.length}) and argmax (${argmax.length})`);
}

/** dx[N, C, H, W] += each dy[n, c, p, q] routed to the input element its window's argmax names (none for −1). */
export function maxPoolBackward(dy: FloatArray, argmax: Int32Array, N: number, g: WindowGeometry, dx: FloatArray): void {
  // TODO: one loop over the outputs of each plane.
  throw new Error(`TODO: route dy [${N}, ${g.C}, ${g.P}, ${g.Q}] (${dy.length} values, ${argmax.length} argmax) into dx [${N}, ${g.C}, ${g.H}, ${g.W}] (${dx.length})`);
}
