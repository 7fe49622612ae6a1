// Window geometry for convolution and pooling, validated once with messages that name the
// op and the offending values.
//
// Naming, one rule per level:
// - the window's step is `stride` in the ops and kernels (conv2d, maxPool2d, avgPool2d,
//   WindowOptions; strideH/strideW in WindowGeometry), as PyTorch's F.conv2d;
// - the layers (Convolution, Pooling, Conv) take neon's `strides`, the name the lab's code
//   passes, and hand it to the ops as `stride`;
// - `strides` anywhere else is memory strides: the element step of each axis of a strided
//   view (Strided, Tensor.strides), as NumPy's and PyTorch's.
import { ShapeError, ValueError } from '../util/errors.js';
import type { WindowGeometry } from './backend.js';

export type Pair = number | readonly [number, number];

function pair(v: Pair | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export interface WindowOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/** `strideName` is the option's name in messages: 'strides' for the layers (see above). */
export function windowGeometry(op: string, C: number, H: number, W: number, R: number, S: number, opts: WindowOptions, defaultStride = 1, strideName = 'stride'): WindowGeometry {
  const [strideH, strideW] = pair(opts.stride, defaultStride);
  const [padH, padW] = pair(opts.padding, 0);
  const [dilH, dilW] = pair(opts.dilation, 1);
  const ints: [string, number][] = [['kernel height', R], ['kernel width', S], [strideName, strideH], [strideName, strideW], ['dilation', dilH], ['dilation', dilW]];
  for (const [name, v] of ints) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${name} must be a positive integer, got ${v}`);
  }
  for (const v of [padH, padW]) {
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`${op}: padding must be a non-negative integer, got ${v}`);
  }
  const effR = dilH * (R - 1) + 1, effS = dilW * (S - 1) + 1;
  if (effR > H + 2 * padH || effS > W + 2 * padW) {
    throw new ShapeError(`${op}: kernel ${R}×${S}${dilH > 1 || dilW > 1 ? ` (dilated to ${effR}×${effS})` : ''} is larger than the padded input ${H + 2 * padH}×${W + 2 * padW} (input ${H}×${W}, padding ${padH},${padW})`);
  }
  const P = Math.floor((H + 2 * padH - effR) / strideH) + 1;
  const Q = Math.floor((W + 2 * padW - effS) / strideW) + 1;
  return { C, H, W, R, S, strideH, strideW, padH, padW, dilH, dilW, P, Q };
}
