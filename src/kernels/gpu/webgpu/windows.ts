// How the webgpu kernels bind arrays larger than one storage binding (maxStorageBufferBindingSize:
// 128 MiB guaranteed; conv1_1's output of VGG-16 at 224², batch 32, holds 411 MB): a call
// runs as several dispatches over pieces of its work (planes, images, channels, rows or
// element ranges), each binding only the window of every buffer that its piece reads or
// writes. A window starts at a multiple of WINDOW_ALIGN elements (256 bytes, WebGPU's
// largest minStorageBufferOffsetAlignment); the shader gets the piece's start inside the
// window as an offset parameter. The gemm splits its own way (./gemm-split.ts).
import { WINDOW_ALIGN, type GBuf, type GWindow } from './device.js';

/**
 * The most loop steps one invocation of a summing shader takes (the bias gradient, reduce,
 * scatterAdd): Mesa's llvmpipe stops every shader loop after 65535 iterations in all (nested
 * loops share the count) without an error, so longer sums run as pieces that accumulate.
 */
export const LOOP_STEPS = 1 << 14;

/** The window binding elements [lo, hi) of g (at least one), and where lo falls inside it. */
export function windowOf(g: GBuf, lo: number, hi: number): { w: GWindow; rel: number } {
  const off = Math.floor(lo / WINDOW_ALIGN) * WINDOW_ALIGN;
  return { w: { g, off, n: Math.max(1, hi - off) }, rel: lo - off };
}

/**
 * Units (planes, images, rows) per piece when one unit spans `perUnit` elements of the
 * largest buffer it touches: as many as fit one binding (`limit` elements) with room for
 * the alignment, all of them when they fit. 0 when a single unit does not fit.
 */
export function unitsPerPiece(count: number, perUnit: number, limit: number): number {
  if (count * perUnit <= limit) return Math.max(1, count);
  return Math.min(count, Math.floor((limit - WINDOW_ALIGN) / Math.max(1, perUnit)));
}

/** [start, count) ranges covering 0 .. total in steps of `step` (one empty range when total is 0). */
export function ranges(total: number, step: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < total; s += step) out.push([s, Math.min(step, total - s)]);
  return out;
}

/** The message of a kernel whose smallest piece still exceeds one binding. */
export function tooLarge(what: string, values: number, limit: number): Error {
  return new Error(`${what} holds ${values} values (${4 * values} bytes), more than one storage binding allows (maxStorageBufferBindingSize ${4 * limit} bytes) even when the call is split`);
}

/**
 * Pieces of im2col and col2im over images × rows of the columns: images [i0, i0 + ic) of nb
 * images [C, H, W] (image stride C·H·W) and rows [g0, g0 + rows) of the columns [C·R·S, ld]
 * (image k's P·Q values at column k·P·Q; row c·R·S + r·S + s reads channel c). Halves the
 * rows while the columns' window is too large, the images while the image window is,
 * until both fit; rows that start inside a channel read from that channel on.
 */
export function imageRowPieces(nb: number, C: number, HW: number, RS: number, PQ: number, ld: number, limit: number): { ic: number; rows: number } {
  let ic = nb, rows = C * RS;
  const room = limit - WINDOW_ALIGN;
  const sizes = (): [number, number] => [(ic - 1) * C * HW + Math.min(C, Math.ceil(rows / RS) + 1) * HW, (rows - 1) * ld + ic * PQ];
  for (;;) {
    const [x, cols] = sizes();
    if ((x <= room && cols <= room) || (ic === nb && rows === C * RS && (ic - 1) * C * HW + C * HW <= limit && cols <= limit)) return { ic, rows };
    if (cols > room && rows > 1) rows = Math.ceil(rows / 2);
    else if (x > room && ic > 1) ic = Math.ceil(ic / 2);
    else if (rows > 1) rows = Math.ceil(rows / 2);
    else if (ic > 1) ic = Math.ceil(ic / 2);
    else throw tooLarge(x > cols ? 'one image plane' : 'one row of the columns', Math.max(x, cols), limit);
  }
}
