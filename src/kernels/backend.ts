// The kernel interface. A backend implements a few primitives over flat typed arrays
// (gemm, im2col/col2im, pooling, elementwise maps, reductions, softmax, bias) and nothing
// else: ops, layers and models are composed from these in backend-independent code. The
// CPU backend and any later one (gpu.js, threaded CPU) share these exact signatures, so a
// test can run one against the other.
//
// Layouts: activations NCHW, conv weights [K, C, R, S], linear weights [out, in], all
// row-major. Every array argument may be Float32Array or Float64Array (float64 is used
// by the gradient checker); inputs and outputs of one call have the same type.

export type FloatArray = Float32Array | Float64Array;

/** A strided view: element (i0, i1, ...) is data[offset + Σ ik·strides[k]]. */
export interface Strided {
  readonly data: FloatArray;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/**
 * Geometry of a 2-D convolution or pooling window over one image [C, H, W]:
 * window R×S, stride, zero padding, dilation; output P×Q.
 * P = floor((H + 2·padH − dilH·(R−1) − 1) / strideH) + 1, likewise Q.
 */
export interface WindowGeometry {
  C: number;
  H: number;
  W: number;
  R: number;
  S: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
  P: number;
  Q: number;
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'logistic' | 'tanh';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

export interface Backend {
  readonly name: string;

  /**
   * C = alpha·op(A)·op(B) + beta·C, row-major, op(A): [M, K], op(B): [K, N], C: [M, N].
   * A is stored [M, K] (lda ≥ K) or, if transA, [K, M] (lda ≥ M); likewise B.
   * beta = 0 overwrites C without reading it (so C may hold NaN garbage).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: FloatArray, aOffset: number, lda: number,
    B: FloatArray, bOffset: number, ldb: number,
    beta: number, C: FloatArray, cOffset: number, ldc: number,
  ): void;

  /**
   * cols[C·R·S, P·Q] ← patches of one image x[C, H, W] starting at xOffset (zeros in the
   * padding). The columns may be a block of a wider matrix: element (i, j) is written at
   * cols[colsOffset + i·ldCols + j] (defaults 0 and P·Q), so that nb images can be laid side
   * by side in one [C·R·S, nb·P·Q] matrix (image k: colsOffset k·P·Q, ldCols nb·P·Q).
   */
  im2col(x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset?: number, ldCols?: number): void;
  /** dx[C, H, W] (at dxOffset) += the adjoint of im2col applied to cols[C·R·S, P·Q] (read at colsOffset with row stride ldCols, as im2col writes it). */
  col2im(cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number, colsOffset?: number, ldCols?: number): void;

  /** y[N, C, P, Q] = max over each window of x[N, C, H, W]; argmax[N, C, P, Q] = flat index h·W + w in its image plane, −1 if the window is all padding. */
  maxPoolForward(x: FloatArray, N: number, g: WindowGeometry, y: FloatArray, argmax: Int32Array): void;
  /** dx[N, C, H, W] += dy routed to each window's argmax. */
  maxPoolBackward(dy: FloatArray, argmax: Int32Array, N: number, g: WindowGeometry, dx: FloatArray): void;
  /** Average over the window; padding counts in the divisor when countPad (neon, PyTorch's default). */
  avgPoolForward(x: FloatArray, N: number, g: WindowGeometry, countPad: boolean, y: FloatArray): void;
  avgPoolBackward(dy: FloatArray, N: number, g: WindowGeometry, countPad: boolean, dx: FloatArray): void;

  /** y = f(x) elementwise over n values (y may be x). */
  unary(op: UnaryOp, x: FloatArray, y: FloatArray, n: number): void;
  /** dx = dy · f'(x), where f' is computed from the input x and/or the output y = f(x). */
  unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void;
  /** out[outShape] = a ∘ b over strided views already broadcast to outShape (stride 0 on broadcast axes). */
  binary(op: BinaryOp, a: Strided, b: Strided, out: FloatArray): void;
  /** out = a ∘ scalar elementwise over n values; `reverse` computes scalar ∘ a. */
  binaryScalar(op: BinaryOp, a: FloatArray, scalar: number, out: FloatArray, n: number, reverse: boolean): void;
  /** Contiguous copy of a strided view into out (row-major over x.shape). */
  copy(x: Strided, out: FloatArray): void;

  /**
   * Reduce contiguous x[shape] over `axes` (sorted) into out (the shape with those axes set to 1).
   * For 'max', argmax receives, per output element, the flat index into x of the first maximum.
   */
  reduce(op: 'sum' | 'max', x: FloatArray, shape: readonly number[], axes: readonly number[], out: FloatArray, argmax?: Int32Array): void;

  /** Softmax (or log-softmax) of each row of x[rows, cols], stable by subtracting the row max. */
  softmax(x: FloatArray, rows: number, cols: number, log: boolean, y: FloatArray): void;
  /** y[N, C, HW] = x + b[c] (y may be x). */
  biasAdd(x: FloatArray, b: FloatArray, N: number, C: number, HW: number, y: FloatArray): void;
  /** db[c] (+)= Σ over N and HW of dy[N, C, HW]; accumulate when `accumulate`. */
  biasBackward(dy: FloatArray, N: number, C: number, HW: number, db: FloatArray, accumulate: boolean): void;
}
