// 2-D convolution (cross-correlation, as in every framework) through im2col + gemm.
// Shapes: x [N, C, H, W], w [K, C, R, S], b [K], y [N, K, P, Q].
// Per image n:   cols = im2col(x[n])                 [C·R·S, P·Q]
//   forward:     y[n]  = W · cols                     [K, C·R·S]·[C·R·S, P·Q]
//   backward:    dW   += dy[n] · colsᵀ                [K, P·Q]·[P·Q, C·R·S]
//                dx[n] = col2im(Wᵀ · dy[n])           [C·R·S, K]·[K, P·Q]
//                db   += Σ_{P,Q} dy[n]
// The raw functions are exported so that layers can call them without the tape.
import { backend } from '../../kernels/index.js';
import type { FloatArray, WindowGeometry } from '../../kernels/backend.js';
import { windowGeometry, type WindowOptions } from '../../kernels/geometry.js';
import { allocate, Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { commonDtype } from './util.js';

export type Conv2dOptions = WindowOptions;

export function convGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions): WindowGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new ShapeError(`conv2d: expected x [N, C, H, W] and w [K, C, R, S], got x ${shapeStr(xShape)} and w ${shapeStr(wShape)}`);
  }
  const [, C, H, W] = xShape as [number, number, number, number];
  const [, Cw, R, S] = wShape as [number, number, number, number];
  if (C !== Cw) throw new ShapeError(`conv2d: input has ${C} channels but the weight ${shapeStr(wShape)} expects ${Cw} (x ${shapeStr(xShape)})`);
  return windowGeometry('conv2d', C, H, W, R, S, opts);
}

/** y[N, K, P, Q] = conv(x, w) (+ b). */
export function conv2dForward(x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry, y: FloatArray): void {
  const be = backend();
  const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
  const cols = allocate(x instanceof Float64Array ? 'float64' : 'float32', CRS * PQ);
  for (let n = 0; n < N; n++) {
    be.im2col(x, n * CHW, g, cols);
    be.gemm(false, false, K, PQ, CRS, 1, w, 0, CRS, cols, 0, PQ, 0, y, n * K * PQ, PQ);
  }
  if (b) be.biasAdd(y, b, N, K, PQ, y);
}

/**
 * Gradients of a convolution: any of dx, dw, db may be null (not wanted). dw and db are
 * accumulated (+=) over the batch; dx is overwritten.
 */
export function conv2dBackward(
  x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray,
  dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null,
): void {
  const be = backend();
  const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
  const cols = allocate(x instanceof Float64Array ? 'float64' : 'float32', CRS * PQ);
  if (dx) dx.fill(0);
  for (let n = 0; n < N; n++) {
    if (dw) {
      be.im2col(x, n * CHW, g, cols);
      be.gemm(false, true, K, CRS, PQ, 1, dy, n * K * PQ, PQ, cols, 0, PQ, 1, dw, 0, CRS);
    }
    if (dx) {
      be.gemm(true, false, CRS, PQ, K, 1, w, 0, CRS, dy, n * K * PQ, PQ, 0, cols, 0, PQ);
      be.col2im(cols, g, dx, n * CHW);
    }
  }
  if (db) be.biasBackward(dy, N, K, PQ, db, true);
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, w.shape, opts);
  const [N] = x.shape as [number];
  const K = w.shape[0]!;
  if (b && (b.ndim !== 1 || b.shape[0] !== K)) throw new ShapeError(`conv2d: bias of shape ${shapeStr(b.shape)} does not match ${K} output channels`);
  const dtype = b ? commonDtype('conv2d', x, w, b) : commonDtype('conv2d', x, w);
  const xd = x.data, wd = w.data;
  const y = allocate(dtype, N * K * g.P * g.Q);
  conv2dForward(xd, N, wd, K, b ? b.data : null, g, y);
  const out = new Tensor(y, [N, K, g.P, g.Q]);
  const inputs = b ? [x, w, b] : [x, w];
  return record('conv2d', inputs, out, (gy) => {
    const dx = x.requiresGrad ? allocate(dtype, xd.length) : null;
    const dw = w.requiresGrad ? allocate(dtype, wd.length) : null;
    const db = b?.requiresGrad ? allocate(dtype, K) : null;
    conv2dBackward(xd, N, wd, K, g, gy.data, dx, dw, db);
    return [dx && new Tensor(dx, x.shape), dw && new Tensor(dw, w.shape), db && new Tensor(db, [K])];
  });
}
