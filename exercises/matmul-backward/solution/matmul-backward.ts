// Track task 2, matmul-backward: a reference solution (as src/autograd/ops/matmul.ts).
import type { Tensor } from '../../../src/index.js';
import { mm } from '../../../src/autograd/functions/matmul.js';

// y = a·b:  da = g·bᵀ [M, N]·[N, K],  db = aᵀ·g [K, M]·[M, N]
export function matmulBackward(a: Tensor, b: Tensor, g: Tensor): [Tensor | null, Tensor | null] {
  return [a.requiresGrad ? mm(g, b, false, true) : null, b.requiresGrad ? mm(a, g, true, false) : null];
}
