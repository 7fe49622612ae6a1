// A dense layer's product: y[N, out] = x[N, in] · wᵀ + b, with w [out, in] (neon and PyTorch).
// Backward: dx = g · w, dw = gᵀ · x, db = Σ_N g.
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { biasAdd } from './bias.js';
import { mm } from './matmul.js';

/** A dense layer: x [N, in] · wᵀ (w [out, in]) + b [out], as PyTorch's F.linear; differentiable. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  if (x.ndim !== 2 || w.ndim !== 2 || x.shape[1] !== w.shape[1]) {
    throw new ShapeError(`linear: input ${shapeStr(x.shape)} does not fit weight ${shapeStr(w.shape)} (need x [N, in], w [out, in])`);
  }
  const out = mm(x, w, false, true);
  const y = record('linear', [x, w], out, (g) => [
    x.requiresGrad ? mm(g, w) : null,
    w.requiresGrad ? mm(g, x, true, false) : null,
  ]);
  return b ? biasAdd(y, b) : y;
}
