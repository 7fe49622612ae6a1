// Track task 2, matmul-backward: your work. See README.md; run `npm run exercise matmul-backward`.
import type { Tensor } from '../../src/index.js';
import { mm } from '../../src/autograd/functions/matmul.js';

/**
 * The backward of y = a·b (a [M, K], b [K, N], y [M, N]): given g = ∂L/∂y [M, N], return
 * [∂L/∂a, ∂L/∂b], null for an input that does not require a gradient. Use
 * mm(x, y, transX, transY), which computes op(x)·op(y) with the backend's gemm, transposing
 * on the fly (no copies).
 */
export function matmulBackward(a: Tensor, b: Tensor, g: Tensor): [Tensor | null, Tensor | null] {
  // TODO: two products, one per input.
  throw new Error(`TODO: the gradients of a [${a.shape.join(', ')}] · b [${b.shape.join(', ')}] for g [${g.shape.join(', ')}] (mm is ${typeof mm})`);
}
