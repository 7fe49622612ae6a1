// A dense layer's product, written once for the tape's linear op (src/autograd/ops/linear.ts)
// and neon's Linear layer (src/layers/linear.ts). w is [out, in], as in neon and PyTorch:
//   y  = x · wᵀ    [N, in]·[in, out]
//   dx = g · w     [N, out]·[out, in]
//   dw = gᵀ · x    [out, N]·[N, in]    (summed over the batch)
import type { Tensor } from '../../tensor/tensor.js';
import type { GradTarget } from '../ops/util.js';
import { mm } from './matmul.js';

/** y [N, out] = x [N, in] · wᵀ (w [out, in]); the backward reads x and w themselves. */
export function linearForward(x: Tensor, w: Tensor): Tensor {
  return mm(x, w, false, true);
}

/** dx (when wanted) and dw (skipped, new, or overwriting the tensor given) for g [N, out]. */
export function linearBackward(x: Tensor, w: Tensor, g: Tensor, want: { dx: boolean; dw: GradTarget }): { dx: Tensor | null; dw: Tensor | null } {
  const dx = want.dx ? mm(g, w) : null;
  const dw = want.dw === false ? null : mm(g, x, true, false, want.dw === true ? undefined : want.dw);
  return { dx, dw };
}
