// A dense layer's product as a tape op: y[N, out] = x[N, in] · wᵀ + b, with w [out, in]
// (neon and PyTorch). The product and its gradients are src/autograd/functions/linear.ts
// (shared with neon's Linear layer); the bias is the biasAdd op.
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { biasAdd } from './bias.js';
import { linearBackward, linearForward } from '../functions/linear.js';

/** A dense layer: x [N, in] · wᵀ (w [out, in]) + b [out], as PyTorch's F.linear; differentiable. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  if (x.ndim !== 2 || w.ndim !== 2 || x.shape[1] !== w.shape[1]) {
    throw new ShapeError(`linear: input ${shapeStr(x.shape)} does not fit weight ${shapeStr(w.shape)} (need x [N, in], w [out, in])`);
  }
  const y = record('linear', [x, w], linearForward(x, w), (g) => {
    const { dx, dw } = linearBackward(x, w, g, { dx: x.requiresGrad, dw: w.requiresGrad });
    return [dx, dw];
  });
  return b ? biasAdd(y, b) : y;
}
