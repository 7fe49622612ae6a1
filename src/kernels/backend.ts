// The kernel interface: everything a backend must provide. A backend owns its storage
// (it allocates buffers and hands back opaque handles; only it reads or writes them) and
// implements a few primitives over those buffers: gemm, im2col/col2im, convolution,
// pooling, elementwise maps, reductions, softmax, bias, the costs, dropout masks and the
// optimizer's update. Ops, layers, optimizers and models are composed from these in
// backend-independent code and never index a buffer; values reach the host only through
// `read` (Tensor.toHost()).
//
// The reference backend (`ref`, src/kernels/cpu/) keeps its buffers as JavaScript typed
// arrays; the fast one (`cpu`, src/kernels/cpu/simd/) as typed arrays over shared memory that
// its worker threads read; a GPU backend would keep them in its own memory. All backends share
// these exact signatures, so one test suite (test/kernels/conformance.test.ts) holds every
// registered backend to the same results.
//
// Layouts: activations NCHW, conv weights [K, C, R, S], linear weights [out, in], all
// row-major. The buffers of one call have the same dtype, one the backend declares in
// `dtypes` (float64 is for gradient checks and may exist on the reference backend only);
// argmax and other index buffers are int32.

/** Element type of tensors: float32 (the default) or float64 (gradient checks). */
export type DType = 'float32' | 'float64';

/** Host arrays: what `read` returns and `upload`/`write` take. */
export type FloatArray = Float32Array | Float64Array;

declare const deviceBufferBrand: unique symbol;
/**
 * A backend's storage: an opaque handle that only the backend that made it can use. (It is
 * branded so that TypeScript refuses to index it or pass a host array in its place.)
 */
export interface DeviceBuffer {
  readonly [deviceBufferBrand]: true;
}

/** A strided view of a buffer: element (i0, i1, ...) is data[offset + Σ ik·strides[k]]. */
export interface Strided {
  readonly data: DeviceBuffer;
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

/** The elementwise unary kernels every backend provides. */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'logistic' | 'tanh';
/** 'ge' gives 1 where a ≥ b (or a is NaN: the side `max` picks), else 0. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'ge';
/** neon's costs (their per-element terms are in src/kernels/cost-terms.ts). */
export type CostName = 'CrossEntropyBinary' | 'CrossEntropyMulti' | 'SumSquared';

/**
 * Which arguments `unaryBackward` reads for each op (the others may be null): the input
 * x, the output y = f(x), or neither. ReLU's derivative is taken on the output, as neon
 * does (1 where y > 0), so a layer that keeps only its output can call it.
 */
export const UNARY_BACKWARD_READS: Readonly<Record<UnaryOp, 'x' | 'y' | 'none'>> = {
  neg: 'none', exp: 'y', log: 'x', sqrt: 'y', abs: 'x', relu: 'y', logistic: 'y', tanh: 'y',
};

/** The hyper-parameters of one momentum-SGD step (neon's GradientDescentMomentum). */
export interface GdmStep {
  /** Learning rate; at 0 the gradient is not read (it may be absent). */
  lr: number;
  /** Gradient-norm clip factor (1 when off). */
  scale: number;
  /** The gradients are sums over the batch: g = grad / bsz. */
  bsz: number;
  /** μ; 0 takes neon's momentum-free branch (no velocity). */
  mu: number;
  wdecay: number;
  nesterov: boolean;
  /** Clip each averaged gradient element to ±gclip; null: off. */
  gclip: number | null;
  /** Clip the updated parameters to ±pclip (momentum branch only); null: off. */
  pclip: number | null;
}

/**
 * Cumulative counters of a backend's threads, in ms of wall time on the calling thread's
 * clock (src/kernels/cpu/simd/activity.ts says how they are taken). Over a window of W ms
 * on the calling thread, threads compute on average (W − waitMs + helperBusyMs) / W.
 */
export interface ThreadActivity {
  /** Threads the backend computes on now (the calling thread included). */
  readonly threads: number;
  /** Whether the counters advance (off by default: on, each parallel call reads a clock a few times). */
  recording: boolean;
  /** allBusyMs: every thread computing at once; helperBusyMs: the helpers' computing, summed; waitMs: the calling thread waiting for helpers. */
  read(): { allBusyMs: number; helperBusyMs: number; waitMs: number };
}

/** A compute backend: it owns tensor storage (DeviceBuffer) and provides every kernel the engine runs; see src/kernels/cpu for the reference. */
export interface Backend {
  readonly name: string;
  /** One line for `--help` and start-up messages. */
  readonly description: string;
  /** The dtypes this backend stores and computes in. */
  readonly dtypes: readonly DType[];
  /**
   * Which algorithm a convolution of geometry g with K filters runs here ('im2col + gemm',
   * 'Winograd F(2×2, 3×3)', ...), for the profile; absent where the backend does not say
   * (the reference's is always its direct loops). Information, not a kernel.
   */
  convAlgorithm?(g: WindowGeometry, K: number): string;
  /**
   * How busy the backend's threads are, for the profile; absent where the backend computes
   * on the calling thread alone. Information, not a kernel.
   */
  readonly threadActivity?: ThreadActivity;

  // ---- Storage -------------------------------------------------------------------------

  /** A new buffer of n zeros. */
  alloc(dtype: DType, n: number): DeviceBuffer;
  /** A new buffer of n int32 zeros (argmax indices). */
  allocIndex(n: number): DeviceBuffer;
  /** A buffer holding `values`. The backend may adopt the array as its storage: the caller must not change it afterwards. */
  upload(values: FloatArray): DeviceBuffer;
  /** n values from `offset`, on the host. May be a view of the storage on a host backend: never write to it. */
  read(buf: DeviceBuffer, offset: number, n: number): FloatArray;
  /** buf[offset ..] ← values. */
  write(buf: DeviceBuffer, offset: number, values: FloatArray): void;
  /** buf[offset .. offset + n) ← value. */
  fill(buf: DeviceBuffer, value: number, offset: number, n: number): void;
  /** The dtype of a buffer. */
  dtypeOf(buf: DeviceBuffer): DType;
  /** Number of elements. */
  lengthOf(buf: DeviceBuffer): number;
  /**
   * The caller's promise that no tensor reads or writes `buf` any more: the backend may hand
   * its memory out again from `alloc` (zeroed, as always). A hint: a backend may ignore it
   * (the reference leaves its arrays to the garbage collector). Model.fprop in inference
   * releases each layer's output once the next layer has read it (src/models/model.ts).
   */
  release(buf: DeviceBuffer): void;

  // ---- Linear algebra and convolution --------------------------------------------------

  /**
   * C = alpha·op(A)·op(B) + beta·C, row-major, op(A): [M, K], op(B): [K, N], C: [M, N].
   * A is stored [M, K] (lda ≥ K) or, if transA, [K, M] (lda ≥ M); likewise B.
   * beta = 0 overwrites C without reading it (so C may hold NaN garbage).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: DeviceBuffer, aOffset: number, lda: number,
    B: DeviceBuffer, bOffset: number, ldb: number,
    beta: number, C: DeviceBuffer, cOffset: number, ldc: number,
  ): void;

  /**
   * cols[C·R·S, P·Q] ← patches of one image x[C, H, W] starting at xOffset (zeros in the
   * padding). The columns may be a block of a wider matrix: element (i, j) is written at
   * cols[colsOffset + i·ldCols + j] (defaults 0 and P·Q), so that nb images can be laid side
   * by side in one [C·R·S, nb·P·Q] matrix (image k: colsOffset k·P·Q, ldCols nb·P·Q).
   */
  im2col(x: DeviceBuffer, xOffset: number, g: WindowGeometry, cols: DeviceBuffer, colsOffset?: number, ldCols?: number): void;
  /** dx[C, H, W] (at dxOffset) += the adjoint of im2col applied to cols[C·R·S, P·Q] (read at colsOffset with row stride ldCols, as im2col writes it). */
  col2im(cols: DeviceBuffer, g: WindowGeometry, dx: DeviceBuffer, dxOffset: number, colsOffset?: number, ldCols?: number): void;

  /**
   * y[N, K, P, Q] = conv(x[N, C, H, W], w[K, C, R, S]) (+ b[K]), then max(0, ·) when `relu`;
   * the backend picks the method (im2col + gemm, Winograd, ...). Each stage's result is
   * rounded to the dtype as if the convolution, biasAdd and unary('relu') ran one after the
   * other (so a layer may fuse them and get the same bits), but the backend may do the bias
   * and the ReLU in the convolution's own output pass (its epilogue) where it can.
   */
  conv2dForward(x: DeviceBuffer, N: number, w: DeviceBuffer, K: number, b: DeviceBuffer | null, g: WindowGeometry, y: DeviceBuffer, relu?: boolean): void;
  /**
   * A dense layer's forward: y[N, nout] = x[N, nin] · w[nout, nin]ᵀ (+ b[nout] on every row),
   * then max(0, ·) when `relu`. As for conv2dForward, each stage is rounded to the dtype as
   * if gemm(false, true, ...), biasAdd(y, b, N, nout, 1, y) and unary('relu') ran one after
   * the other (the same bits), but the backend adds the bias and applies the ReLU in the
   * gemm's own output pass (its epilogue) where it can. Its backward is gemm's.
   */
  linearForward(x: DeviceBuffer, N: number, nin: number, w: DeviceBuffer, nout: number, b: DeviceBuffer | null, y: DeviceBuffer, relu?: boolean): void;
  /** The gradients of conv2dForward for dy[N, K, P, Q]: any of dx, dw, db may be null (not wanted); dx is overwritten, dw and db are accumulated (+=). */
  conv2dBackward(
    x: DeviceBuffer, N: number, w: DeviceBuffer, K: number, g: WindowGeometry, dy: DeviceBuffer,
    dx: DeviceBuffer | null, dw: DeviceBuffer | null, db: DeviceBuffer | null,
  ): void;

  // ---- Pooling --------------------------------------------------------------------------

  /** y[N, C, P, Q] = max over each window of x[N, C, H, W]; argmax (int32) [N, C, P, Q] = flat index h·W + w in its image plane, −1 if the window is all padding. */
  maxPoolForward(x: DeviceBuffer, N: number, g: WindowGeometry, y: DeviceBuffer, argmax: DeviceBuffer): void;
  /** dx[N, C, H, W] += dy routed to each window's argmax. */
  maxPoolBackward(dy: DeviceBuffer, argmax: DeviceBuffer, N: number, g: WindowGeometry, dx: DeviceBuffer): void;
  /** Average over the window; padding counts in the divisor when countPad (neon, PyTorch's default). */
  avgPoolForward(x: DeviceBuffer, N: number, g: WindowGeometry, countPad: boolean, y: DeviceBuffer): void;
  /** dx[N, C, H, W] += dy spread evenly over each window (the divisor as in avgPoolForward). */
  avgPoolBackward(dy: DeviceBuffer, N: number, g: WindowGeometry, countPad: boolean, dx: DeviceBuffer): void;

  // ---- Elementwise ----------------------------------------------------------------------

  /** y = f(x) elementwise over n values (y may be x). */
  unary(op: UnaryOp, x: DeviceBuffer, y: DeviceBuffer, n: number): void;
  /**
   * dx = dy · f'(x) over n values. The derivative is computed from the input x or from the
   * output y = f(x), as UNARY_BACKWARD_READS says for each op; the argument not read may be null.
   */
  unaryBackward(op: UnaryOp, x: DeviceBuffer | null, y: DeviceBuffer | null, dy: DeviceBuffer, dx: DeviceBuffer, n: number): void;
  /** out[outShape] (contiguous) = a ∘ b over strided views already broadcast to outShape (stride 0 on broadcast axes). */
  binary(op: BinaryOp, a: Strided, b: Strided, out: DeviceBuffer): void;
  /** out = a ∘ scalar elementwise over n values; `reverse` computes scalar ∘ a. */
  binaryScalar(op: BinaryOp, a: DeviceBuffer, scalar: number, out: DeviceBuffer, n: number, reverse: boolean): void;
  /** out ← x elementwise over x.shape, both strided (out has x's shape; its strides may leave gaps, as a slice of a larger array). */
  copy(x: Strided, out: Strided): void;

  // ---- Reductions -----------------------------------------------------------------------

  /**
   * Reduce contiguous x[shape] over `axes` (sorted) into out (the shape with those axes set to 1).
   * For 'max', argmax (int32) receives, per output element, the flat index into x of the first maximum.
   */
  reduce(op: 'sum' | 'max', x: DeviceBuffer, shape: readonly number[], axes: readonly number[], out: DeviceBuffer, argmax?: DeviceBuffer): void;
  /** dx[index[i]] += dy[i] for i < n where index[i] ≥ 0 (the backward of a max-reduce). */
  scatterAdd(dy: DeviceBuffer, index: DeviceBuffer, n: number, dx: DeviceBuffer): void;
  /** Σ x[offset .. offset + n)², in float64, as a host number (gradient-norm clipping). */
  sumOfSquares(x: DeviceBuffer, offset: number, n: number): number;

  // ---- Softmax, costs -------------------------------------------------------------------

  /** Softmax (or log-softmax) of each row of x[rows, cols], stable by subtracting the row max. */
  softmax(x: DeviceBuffer, rows: number, cols: number, log: boolean, y: DeviceBuffer): void;
  /** dx of the softmax rows, given the output y: y ⊙ (dy − Σ dy ⊙ y); for log-softmax dy − e^y · Σ dy. */
  softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, rows: number, cols: number, log: boolean, dx: DeviceBuffer): void;
  /** out[r] = Σ_k f(y[r, k], t[r, k]) for each of `rows` rows of y, t [rows, K]: the per-example cost C_n. */
  costRows(cost: CostName, y: DeviceBuffer, t: DeviceBuffer, rows: number, K: number, out: DeviceBuffer): void;
  /** dy = scale · ∂f/∂y (y, t) elementwise over n values. */
  costGrad(cost: CostName, y: DeviceBuffer, t: DeviceBuffer, n: number, scale: number, dy: DeviceBuffer): void;

  // ---- Bias, dropout, optimizer ---------------------------------------------------------

  /** y[N, C, HW] = x + b[c] (y may be x). */
  biasAdd(x: DeviceBuffer, b: DeviceBuffer, N: number, C: number, HW: number, y: DeviceBuffer): void;
  /** db[c] (+)= Σ over N and HW of dy[N, C, HW]; accumulate when `accumulate`. */
  biasBackward(dy: DeviceBuffer, N: number, C: number, HW: number, db: DeviceBuffer, accumulate: boolean): void;
  /**
   * mask[0 .. n) = scale where random() < keep, else 0: a dropout mask. `random` is the
   * engine's generator, drawn once per element in order, so every backend makes the same
   * mask for the same seed.
   */
  dropoutMask(mask: DeviceBuffer, n: number, keep: number, scale: number, random: () => number): void;
  /**
   * One momentum-SGD step in place over n values, with neon's exact order (see
   * src/optim/gdm.ts): param p, summed gradient g (null allowed when step.lr = 0), velocity
   * v (null when step.mu = 0). Each element is computed in float64 from the stored values.
   */
  gdmUpdate(p: DeviceBuffer, g: DeviceBuffer | null, v: DeviceBuffer | null, n: number, step: GdmStep): void;
}

/** The storage methods of a backend: how its buffers are made, read, written and handed back. */
export type StorageMethods = Pick<Backend, 'alloc' | 'allocIndex' | 'upload' | 'read' | 'write' | 'fill' | 'dtypeOf' | 'lengthOf' | 'release'>;

/** The storage methods' names (the conformance suite moves data with them; it does not compare them). */
export const STORAGE_METHODS: readonly (keyof StorageMethods)[] = ['alloc', 'allocIndex', 'upload', 'read', 'write', 'fill', 'dtypeOf', 'lengthOf', 'release'];

/** The kernels: every method of Backend that is not storage. */
export type KernelName = Exclude<keyof Backend, keyof StorageMethods | keyof BackendInfo>;

/**
 * A backend's kernel table: one row per kernel. Each backend folder builds its backend from
 * one such table, so a kernel added to Backend above is a type error in every table that
 * lacks its row (and the conformance suite, which lists Backend's methods, fails until it
 * is tested).
 */
export type KernelTable = Pick<Backend, KernelName>;

/** What names a backend: its `-b` name, the line `--help` shows, the dtypes it computes in. */
export interface BackendInfo {
  readonly name: string;
  readonly description: string;
  readonly dtypes: readonly DType[];
  convAlgorithm?(g: WindowGeometry, K: number): string;
}

/** A backend from its name, its storage and its kernel table. */
export function assembleBackend(info: BackendInfo, storage: StorageMethods, kernels: KernelTable): Backend {
  const said = info.convAlgorithm ? { convAlgorithm: info.convAlgorithm } : {};
  return { name: info.name, description: info.description, dtypes: info.dtypes, ...said, ...storage, ...kernels };
}
