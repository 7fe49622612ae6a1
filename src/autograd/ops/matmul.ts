// Matrix product of 2-D tensors through the backend's gemm. Transposed (permuted) inputs
// are passed to gemm as transposes instead of being copied.
import type { DeviceBuffer } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { backendOf, commonDtype, empty } from './util.js';

/** How gemm should read a 2-D view: row-major with leading dimension ld, or transposed. */
function gemmOperand(t: Tensor): { buf: DeviceBuffer; offset: number; trans: boolean; ld: number } {
  const [r, c] = t.shape as [number, number];
  const [sr, sc] = t.strides as [number, number];
  if (sc === 1 || c === 1) return { buf: t.storage, offset: t.offset, trans: false, ld: Math.max(sr, c, 1) };
  if (sr === 1 || r === 1) return { buf: t.storage, offset: t.offset, trans: true, ld: Math.max(sc, r, 1) };
  const copy = t.contiguous();
  return { buf: copy.storage, offset: copy.offset, trans: false, ld: c };
}

/** out[M, N] = a[M, K] · b[K, N] (+ beta·out when accumulating into an existing array). */
export function mm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const be = backendOf('matmul', a, b);
  const A = gemmOperand(a), B = gemmOperand(b);
  const M = transA ? a.shape[1]! : a.shape[0]!;
  const K = transA ? a.shape[0]! : a.shape[1]!;
  const N = transB ? b.shape[0]! : b.shape[1]!;
  const out = empty(be, commonDtype('matmul', a, b), [M, N]);
  be.gemm(A.trans !== transA, B.trans !== transB, M, N, K, 1, A.buf, A.offset, A.ld, B.buf, B.offset, B.ld, 0, out.storage, 0, N);
  return out;
}

// d(a·b) = g·bᵀ, aᵀ·g
/** Matrix product of the last two axes, broadcasting leading (batch) axes; differentiable. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)} by ${shapeStr(b.shape)} (need [M, K] · [K, N])`);
  }
  const out = mm(a, b);
  return record('matmul', [a, b], out, (g) => [
    a.requiresGrad ? mm(g, b, false, true) : null,
    b.requiresGrad ? mm(a, g, true, false) : null,
  ]);
}
