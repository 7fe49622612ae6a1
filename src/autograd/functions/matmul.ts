// The matrix product through the backend's gemm, written once for the tape's matmul and
// linear ops and for neon's Linear layer. Transposed (permuted) 2-D views are passed to
// gemm as transposes instead of being copied.
//   y = a · b   [M, K]·[K, N];   da = g · bᵀ,   db = aᵀ · g
import type { DeviceBuffer } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf, commonDtype, empty } from '../ops/util.js';

/** How gemm should read a 2-D view: row-major with leading dimension ld, or transposed. */
function gemmOperand(t: Tensor): { buf: DeviceBuffer; offset: number; trans: boolean; ld: number } {
  const [r, c] = t.shape as [number, number];
  const [sr, sc] = t.strides as [number, number];
  if (sc === 1 || c === 1) return { buf: t.storage, offset: t.offset, trans: false, ld: Math.max(sr, c, 1) };
  if (sr === 1 || r === 1) return { buf: t.storage, offset: t.offset, trans: true, ld: Math.max(sc, r, 1) };
  const copy = t.contiguous();
  return { buf: copy.storage, offset: copy.offset, trans: false, ld: c };
}

/**
 * out[M, N] = op(a) · op(b), op transposing when asked; `out` (contiguous [M, N] from
 * offset 0, as a layer's Param.grad) is overwritten, or made new when not given.
 */
export function mm(a: Tensor, b: Tensor, transA = false, transB = false, out?: Tensor): Tensor {
  const be = backendOf('matmul', a, b);
  const A = gemmOperand(a), B = gemmOperand(b);
  const M = transA ? a.shape[1]! : a.shape[0]!;
  const K = transA ? a.shape[0]! : a.shape[1]!;
  const N = transB ? b.shape[0]! : b.shape[1]!;
  const y = out ?? empty(be, commonDtype('matmul', a, b), [M, N]);
  be.gemm(A.trans !== transA, B.trans !== transB, M, N, K, 1, A.buf, A.offset, A.ld, B.buf, B.offset, B.ld, 0, y.storage, 0, N);
  return y;
}

/** matmul's backward: given g = ∂L/∂(a·b), [∂L/∂a, ∂L/∂b], null for an input that needs no gradient. */
export type MatmulBackward = (a: Tensor, b: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

// d(a·b) = g·bᵀ [M, N]·[N, K],  aᵀ·g [K, M]·[M, N]
const engineMatmulBackward: MatmulBackward = (a, b, g) => [
  a.requiresGrad ? mm(g, b, false, true) : null,
  b.requiresGrad ? mm(a, g, true, false) : null,
];

// The seam of the exercise track's matmul-backward task: the learner's backward replaces
// the engine's for every matmul op recorded while it is set (kept out of the public API).
let current: MatmulBackward = engineMatmulBackward;

/** The backward that the matmul op records now. */
export function matmulBackward(): MatmulBackward {
  return current;
}

/** Replace matmul's backward (null restores the engine's); returns the one it replaces. */
export function setMatmulBackward(fn: MatmulBackward | null): MatmulBackward {
  const prev = current;
  current = fn ?? engineMatmulBackward;
  return prev;
}
