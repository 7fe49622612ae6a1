// A dense layer's product, written once for the tape's linear op (src/autograd/ops/linear.ts)
// and neon's Linear layer (src/layers/linear.ts). w is [out, in], as in neon and PyTorch:
//   y  = x · wᵀ    [N, in]·[in, out]
//   dx = g · w     [N, out]·[out, in]
//   dw = gᵀ · x    [out, N]·[N, in]    (summed over the batch)
import type { Tensor } from '../../tensor/tensor.js';
import type { GradTarget } from '../ops/util.js';
import { commonDtype, dense, empty } from '../ops/util.js';
import { mm } from './matmul.js';

/**
 * y [N, out] = x [N, in] · wᵀ (w [out, in]); with the epilogue of the layers after it (a
 * Bias b [out], a Rectlin when `relu`), y = max(0, x · wᵀ + b) in one backend call
 * (Backend.linearForward, the same bits as the three one by one). The backward reads x and
 * w themselves (and the ReLU's derivative is taken from y by its own layer).
 */
export function linearForward(x: Tensor, w: Tensor, b: Tensor | null = null, relu = false): Tensor {
  if (!b && !relu) return mm(x, w, false, true);
  const be = x.backend;
  const N = x.shape[0]!, nin = x.shape[1]!, nout = w.shape[0]!;
  const y = empty(be, commonDtype('linear', x, w), [N, nout]);
  be.linearForward(dense(x), N, nin, dense(w), nout, b ? dense(b) : null, y.storage, relu);
  return y;
}

/** dx (when wanted) and dw (skipped, new, or overwriting the tensor given) for g [N, out]. */
export function linearBackward(x: Tensor, w: Tensor, g: Tensor, want: { dx: boolean; dw: GradTarget }): { dx: Tensor | null; dw: Tensor | null } {
  const dx = want.dx ? mm(g, w) : null;
  const dw = want.dw === false ? null : mm(g, x, true, false, want.dw === true ? undefined : want.dw);
  return { dx, dw };
}
