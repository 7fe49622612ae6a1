// The fast CPU backend (`-b cpu`, the default): the reference kernels' contract, with
//   - float32 buffers as Float32Arrays over SharedArrayBuffers, which every thread reads
//     and writes directly (no copies in or out of a worker);
//   - gemm by a WebAssembly SIMD micro-kernel (simd-gemm.ts, relaxed madd where the
//     engine has it), blocks handed out to threads dynamically (gemm.ts, pool.ts);
//   - convolution by im2col + gemm over chunks of images or Winograd's 16 gemms (conv.ts,
//     winograd.ts, im2col.ts) run with the SIMD gemm, Winograd's transforms in SIMD
//     (simd-winograd.ts) and float32 scratch (arena.ts). Over the threads: a batch whose outputs have ≥ 1024 pixels an
//     image goes in groups of images, one task each (the weight gradient of each group
//     into its own slice, summed in group order, so the result does not depend on the
//     number of threads); one such image goes forward in bands of output rows; smaller
//     maps run as one convolution with the gemms themselves split over the threads
//     (Winograd's 16 gemms of a pass as one job, its transforms in ranges of planes);
//   - the large elementwise kernels (activations, their gradients, scalar ops, bias, the
//     optimizer's update) split into ranges over the threads;
//   - everything else, and every float64 buffer (gradient checks), by the reference
//     kernels (src/kernels/cpu/ref/), on the main thread: the rows of the kernel table
//     below that read `ref.`.
// Without WebAssembly SIMD or SharedArrayBuffer, `fastCpu` returns null and says why (the
// registry then keeps `cpu` as the reference kernels, and says so in one line); without
// worker threads, the pool says so in one line and everything runs on the main thread.
import { assembleBackend, type Backend, type BinaryOp, type DeviceBuffer, type FloatArray, type GdmStep, type KernelTable, type ThreadActivity, type UnaryOp, type WindowGeometry } from '../../backend.js';
import { hostKernelTable, unboxed } from '../ref/index.js';
import { checkArgs, gemm as refGemm } from '../ref/gemm.js';
import { biasBackward } from '../ref/bias.js';
import { col2im, im2col } from './im2col.js';
import { isShared, onAllocationBudget, releaseF32, sharedF32, simdStorage } from './storage.js';
import { conv2dBackward, conv2dForward, convAlgorithm, winogradFilters, winogradTileMode, type ConvContext } from './conv.js';
import { planGemm, vanishingProduct, type GemmJob } from './gemm.js';
import { ThreadPool } from './pool.js';
import { Arena } from './arena.js';
import { simdModule, SimdInstance } from './simd.js';
import { simdWinogradGradOutput, simdWinogradInput, simdWinogradOutput, type MapJob, type WinogradTransformJob } from './tasks.js';
import { simd43Transforms } from './simd-winograd43-run.js';
import type { winograd43GradOutput, winograd43Input, winograd43Output } from './winograd43.js';
import { gemmBatch, type winogradGradOutput, type winogradInput, type winogradOutput } from './winograd.js';

/** Below this many multiply-adds a gemm runs on the calling thread (handing a job to the threads costs more than it saves). */
const PARALLEL_GEMM_MACS = 1 << 20;
/** Elementwise kernels below this many values run on the calling thread; above, in ranges of at least this size. */
const PARALLEL_MAP = 1 << 16;
/**
 * Winograd's plane-wise transforms (input, output, output gradient) go over the threads
 * from twice this many values of the planes they read, in ranges of at least this many:
 * the elementwise kernels' threshold. A lower one also split the demo's 16² and 8² maps,
 * whose transforms take about as long as waking a helper, and measured no faster.
 */
const PARALLEL_TRANSFORM = PARALLEL_MAP;
/** Filters (K·C of them) from which Winograd's filter transform goes over the threads. */
const PARALLEL_WINOGRAD_FILTERS = 4096;
/** Images per convolution task group at most: groups = min(N, CONV_GROUPS), fixed, so results do not depend on the thread count. */
const CONV_GROUPS = 8;
/**
 * Image groups only for outputs of at least this many pixels per image. Each group repeats
 * the work that scales with the weights (Winograd's filter transform, packing them for
 * the gemms, its own weight gradient and that gradient's transform, the sum of the
 * groups' gradients), which pays only where the activations dwarf the weights (VGG's
 * first blocks); smaller maps run as one convolution over the whole batch with the gemms
 * split over the threads (bench/README.md has the figures).
 */
const CONV_GROUP_MIN_PQ = 1024;

/** How many image groups a convolution of N images runs in (a function of the shape alone). */
function convGroups(N: number, g: WindowGeometry): number {
  return g.P * g.Q >= CONV_GROUP_MIN_PQ ? Math.min(N, CONV_GROUPS) : 1;
}

export interface FastCpu {
  backend: Backend;
  pool: ThreadPool;
}

let made: FastCpu | null | undefined;
let why = '';

/** Why the fast backend is unavailable ('' if it is available). */
export function fastUnavailable(): string {
  fastCpu();
  return why;
}

/** The fast backend and its thread pool, made once; null (see fastUnavailable) without WebAssembly SIMD or shared memory. */
export function fastCpu(): FastCpu | null {
  if (made !== undefined) return made;
  made = null;
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    why = 'SharedArrayBuffer and Atomics are unavailable';
    return made;
  }
  const simd = simdModule();
  if (!simd) {
    why = 'WebAssembly SIMD is unavailable';
    return made;
  }
  const main = new SimdInstance(simd.module, undefined, simd.winograd);
  const pool = new ThreadPool(main, simd.module, simd.winograd);
  onAllocationBudget(() => pool.collect());
  const description = `src/kernels/cpu/simd/: WebAssembly SIMD gemm with ${simd.relaxed ? 'relaxed madd' : 'mul + add'}, convolution on worker threads (--threads); float64 by the reference kernels`;
  /** The reference's rows: the kernels this backend does not speed up, and every float64 call. */
  const ref = hostKernelTable('cpu', unboxed);
  const f = (b: DeviceBuffer): FloatArray => b as unknown as FloatArray;
  const f32 = (b: DeviceBuffer | null): Float32Array | null => (b === null ? null : (b as unknown as Float32Array));
  const isF32 = (...bs: Array<DeviceBuffer | null>) => bs.every((b) => b === null || b instanceof Float32Array);

  /** The threaded gemm on float32 arrays (other dtypes: the reference). */
  const gemm = (
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: FloatArray, aOffset: number, lda: number, B: FloatArray, bOffset: number, ldb: number,
    beta: number, C: FloatArray, cOffset: number, ldc: number, epilogue?: { bias: Float32Array | null; relu: boolean },
  ): void => {
    if (!(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array)) {
      refGemm(transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc);
      return;
    }
    checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
    if (vanishingProduct(M, N, K, alpha, beta, C, cOffset, ldc)) return;
    const threads = M * N * K >= PARALLEL_GEMM_MACS && isShared(A) && isShared(B) && isShared(C) ? pool.numThreads : 1;
    const plan = planGemm(M, N, main.MR, main.NR, threads);
    const job: GemmJob = { kind: 'gemm', transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc, ...plan, ...epilogue };
    pool.run(job, plan.tasks, threads);
  };

  /**
   * Gemms of one shape (Winograd's 16 per pass) as one job over the threads: the blocks of
   * all of them handed out together, so the threads meet once per pass instead of once per
   * gemm, and gemms too small to split alone split together. Each block is computed as the
   * gemm alone would compute it (blocks cut C, never K), so the results are the same bits.
   */
  const gemms: typeof gemmBatch = (g, count, transA, transB, M, N, K, alpha, A, aOffset, aStride, lda, B, bOffset, bStride, ldb, beta, C, cOffset, cStride, ldc) => {
    const f32 = A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array;
    if (!f32 || count < 2 || M === 0 || N === 0 || K === 0 || alpha === 0) {
      gemmBatch(g, count, transA, transB, M, N, K, alpha, A, aOffset, aStride, lda, B, bOffset, bStride, ldb, beta, C, cOffset, cStride, ldc);
      return;
    }
    const last = count - 1;
    checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
    checkArgs(transA, transB, M, N, K, A, aOffset + last * aStride, lda, B, bOffset + last * bStride, ldb, C, cOffset + last * cStride, ldc);
    const threads = count * M * N * K >= PARALLEL_GEMM_MACS && isShared(A) && isShared(B) && isShared(C) ? pool.numThreads : 1;
    // blocks as large as one thread would take; smaller only where all of them are too few to share
    let plan = planGemm(M, N, main.MR, main.NR, 1);
    if (threads > 1 && count * plan.tasks < 3 * threads) plan = planGemm(M, N, main.MR, main.NR, threads);
    const first: GemmJob = { kind: 'gemm', transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc, ...plan };
    pool.run({ kind: 'gemmBatch', first, count, per: plan.tasks, aStride, bStride, cStride }, count * plan.tasks, threads);
  };

  /** Convolution on the main thread: the gemms themselves go over the threads, so scratch is shared memory (an arena reset per call). */
  const arena = new Arena(true);
  /**
   * Winograd's filter transform over the threads, in ranges of output channels: it runs at
   * every call, and for 512 × 512 filters (VGG's conv4 and conv5) on one image at 14² it is
   * as much work as the convolution's gemms.
   */
  const winogradWeightsOf = (tile: 2 | 4) => (w: FloatArray, K: number, C: number, flip: boolean): FloatArray => {
    const U = arena.alloc((tile + 2) ** 2 * K * C);
    const threads = pool.numThreads;
    const chunk = threads > 1 && K * C >= PARALLEL_WINOGRAD_FILTERS && isShared(w) ? Math.ceil(K / (2 * threads)) : K;
    pool.run({ kind: 'winogradWeights', w: w as Float32Array, K, C, flip, U, chunk, tile }, Math.ceil(K / chunk));
    return U;
  };
  /**
   * A transform's planes in ranges over the threads (WinogradTransformJob), where they are
   * float32 in shared memory, the instances have the SIMD transforms and the planes hold
   * enough values; else on this thread.
   */
  const transformOver = (job: Omit<WinogradTransformJob, 'chunk'>, planeValues: number, shared: boolean): boolean => {
    const threads = pool.numThreads, values = job.n * planeValues;
    if (threads === 1 || values < 2 * PARALLEL_TRANSFORM || !shared || !main.winoIn) return false;
    const chunk = Math.max(Math.ceil(PARALLEL_TRANSFORM / planeValues), Math.ceil(job.n / (4 * threads)));
    pool.run({ ...job, chunk }, Math.ceil(job.n / chunk));
    return true;
  };
  const serialInput = simdWinogradInput(main), serialOutput = simdWinogradOutput(main), serialGradOutput = simdWinogradGradOutput(main);
  const input: typeof winogradInput = (x, n0, m, C, H, W, padH, padW, TH, TW, V, pad) => {
    const f32 = x instanceof Float32Array && V instanceof Float32Array;
    if (!(f32 && transformOver({ kind: 'winogradTransform', transform: 'input', src: x, dst: V, n0, m, ch: C, H, W, padH, padW, T: 0, P: 0, Q: 0, TH, TW, n: m * C }, H * W, isShared(x) && isShared(V)))) {
      serialInput(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
    }
  };
  const output: typeof winogradOutput = (M, n0, m, K, T, TH, TW, P, Q, y) => {
    const f32 = M instanceof Float32Array && y instanceof Float32Array;
    if (!(f32 && transformOver({ kind: 'winogradTransform', transform: 'output', src: M, dst: y, n0, m, ch: K, H: 0, W: 0, padH: 0, padW: 0, T, P, Q, TH, TW, n: m * K }, 16 * TH * TW, isShared(M) && isShared(y)))) {
      serialOutput(M, n0, m, K, T, TH, TW, P, Q, y);
    }
  };
  const gradOutput: typeof winogradGradOutput = (dy, n0, m, K, T, TH, TW, P, Q, Y) => {
    const f32 = dy instanceof Float32Array && Y instanceof Float32Array;
    if (!(f32 && transformOver({ kind: 'winogradTransform', transform: 'gradOutput', src: dy, dst: Y, n0, m, ch: K, H: 0, W: 0, padH: 0, padW: 0, T, P, Q, TH, TW, n: m * K }, P * Q, isShared(dy) && isShared(Y)))) {
      serialGradOutput(dy, n0, m, K, T, TH, TW, P, Q, Y);
    }
  };
  // F(4×4, 3×3)'s transforms in ranges of channels, each over every image of the chunk
  const serial43 = simd43Transforms(main);
  const input43: typeof winograd43Input = (x, n0, m, C, H, W, padH, padW, TH, TW, V, pad) => {
    const f32 = x instanceof Float32Array && V instanceof Float32Array;
    if (!(f32 && main.wino43In && transformOver({ kind: 'winogradTransform', transform: 'input43', src: x, dst: V, n0, m, ch: C, H, W, padH, padW, T: 0, P: 0, Q: 0, TH, TW, n: C }, m * H * W, isShared(x) && isShared(V)))) {
      serial43.input43!(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
    }
  };
  const output43: typeof winograd43Output = (M, n0, m, K, T, TH, TW, P, Q, y) => {
    const f32 = M instanceof Float32Array && y instanceof Float32Array;
    if (!(f32 && main.wino43Out && transformOver({ kind: 'winogradTransform', transform: 'output43', src: M, dst: y, n0, m, ch: K, H: 0, W: 0, padH: 0, padW: 0, T, P, Q, TH, TW, n: K }, 36 * T, isShared(M) && isShared(y)))) {
      serial43.output43!(M, n0, m, K, T, TH, TW, P, Q, y);
    }
  };
  const gradOutput43: typeof winograd43GradOutput = (dy, n0, m, K, T, TH, TW, P, Q, Y) => {
    const f32 = dy instanceof Float32Array && Y instanceof Float32Array;
    if (!(f32 && main.wino43Dy && transformOver({ kind: 'winogradTransform', transform: 'gradOutput43', src: dy, dst: Y, n0, m, ch: K, H: 0, W: 0, padH: 0, padW: 0, T, P, Q, TH, TW, n: K }, m * P * Q, isShared(dy) && isShared(Y)))) {
      serial43.gradOutput43!(dy, n0, m, K, T, TH, TW, P, Q, Y);
    }
  };
  const mainConvContext: ConvContext = {
    gemm,
    alloc: (dtype, n) => (dtype === 'float64' ? new Float64Array(n) : arena.alloc(n)),
    winograd: { gemm, gemms, alloc: (n) => arena.alloc(n), input, output, gradOutput, ...serial43, input43, output43, gradOutput43, weights: winogradWeightsOf(2), weights43: winogradWeightsOf(4) },
  };
  const mainConv = (): ConvContext => {
    arena.reset();
    return mainConvContext;
  };
  /**
   * The filters of a convolution split over images or bands, transformed once here (on the
   * threads, into the arena's shared memory) for all its tasks, so that no task transforms
   * its own copy: the same work again per thread, and 36·K·C more floats in each thread's
   * scratch for F(4,3).
   */
  const sharedFilters = (w: Float32Array, K: number, g: WindowGeometry, flip: boolean): Float32Array | null =>
    winogradFilters(w, K, g, flip, mainConv()) as Float32Array | null;

  /**
   * Runs an elementwise job in ranges over the threads, or in one piece on this thread.
   * values: how many values the job touches, where its n counts rows or planes.
   */
  const map = (job: MapJob, values = job.n): void => {
    const threads = pool.numThreads;
    if (threads === 1 || values < 2 * PARALLEL_MAP) {
      pool.run({ ...job, chunk: job.n }, 1);
      return;
    }
    const perItem = values / job.n;
    const chunk = Math.max(Math.ceil(PARALLEL_MAP / perItem), Math.ceil(job.n / (4 * threads)));
    pool.run({ ...job, chunk }, Math.ceil(job.n / chunk));
  };

  /** The kernel table: one row per kernel; a row this backend does not speed up is the reference's. */
  const kernels: KernelTable = {
    gemm: (tA, tB, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc) => gemm(tA, tB, M, N, K, alpha, f(A), ao, lda, f(B), bo, ldb, beta, f(C), co, ldc),
    im2col: (x, xo, g, cols, co, ld) => im2col(f(x), xo, g, f(cols), co, ld),
    col2im: (cols, g, dx, dxo, co, ld) => col2im(f(cols), g, f(dx), dxo, co, ld),

    conv2dForward: (x, N, w, K, b, g, y, relu = false) => {
      if (!isF32(x, w, b, y)) return ref.conv2dForward(x, N, w, K, b, g, y, relu);
      const groups = convGroups(N, g);
      if (pool.numThreads > 1 && groups > 1 && isShared(f(x)) && isShared(f(y))) {
        pool.run({ kind: 'convForward', x: f32(x)!, N, w: f32(w)!, K, b: f32(b), g, y: f32(y)!, groups, relu, tile: winogradTileMode(), U: sharedFilters(f32(w)!, K, g, false) }, groups);
        return;
      }
      if (pool.numThreads > 1 && N === 1 && g.P * g.Q >= CONV_GROUP_MIN_PQ && g.P >= 16 && isShared(f(x)) && isShared(f(y))) {
        // one large image: bands of output rows, a multiple of 4 each (Winograd's largest tile; see ConvBandJob)
        const bands = Math.min(Math.floor(g.P / 8), 4 * pool.numThreads);
        const rows = 4 * Math.ceil(g.P / bands / 4);
        pool.run({ kind: 'convBand', x: f32(x)!, w: f32(w)!, K, b: f32(b), g, y: f32(y)!, rows, relu, tile: winogradTileMode(), U: sharedFilters(f32(w)!, K, g, false) }, Math.ceil(g.P / rows));
        return;
      }
      conv2dForward(f(x), N, f(w), K, b && f(b), g, f(y), mainConv(), relu);
    },
    // The bias and the ReLU in the gemm's output pass (GemmJob's epilogue), block by block.
    linearForward: (x, N, nin, w, nout, b, y, relu = false) => {
      const X = f(x), Wt = f(w), Y = f(y);
      if (!isF32(x, w, b, y) || nin === 0 || N === 0 || nout === 0) return ref.linearForward(x, N, nin, w, nout, b, y, relu);
      gemm(false, true, N, nout, nin, 1, X, 0, nin, Wt, 0, nin, 0, Y, 0, nout, { bias: f32(b), relu });
    },
    conv2dBackward: (x, N, w, K, g, dy, dx, dw, db) => {
      if (!isF32(x, w, dy, dx, dw, db)) return ref.conv2dBackward(x, N, w, K, g, dy, dx, dw, db);
      const groups = convGroups(N, g);
      if (groups > 1 && (dx || dw) && isShared(f(x)) && isShared(f(dy)) && (dx === null || isShared(f(dx)))) {
        convBackwardGroups(f32(x)!, N, f32(w)!, K, g, f32(dy)!, f32(dx), f32(dw), groups);
      } else if (dx || dw) {
        conv2dBackward(f(x), N, f(w), K, g, f(dy), dx && f(dx), dw && f(dw), null, mainConv());
      }
      if (db) biasBackward(f(dy), N, K, g.P * g.Q, f(db), true);
    },

    // ReLU below the split goes to map as well, which runs it on this thread with the
    // branch-free kernel (./relu.ts, the reference's bits): faster than the reference's loop
    unary: (op: UnaryOp, x, y, n) => {
      if (!isF32(x, y) || (n < 2 * PARALLEL_MAP && op !== 'relu')) return ref.unary(op, x, y, n);
      map({ kind: 'unary', op, x: f32(x)!, y: f32(y)!, n, chunk: 0 });
    },
    unaryBackward: (op, x, y, dy, dx, n) => {
      if (!isF32(x, y, dy, dx) || (n < 2 * PARALLEL_MAP && !(op === 'relu' && y))) return ref.unaryBackward(op, x, y, dy, dx, n);
      map({ kind: 'unaryBackward', op, x: f32(x), y: f32(y), dy: f32(dy)!, dx: f32(dx)!, n, chunk: 0 });
    },
    binaryScalar: (op: BinaryOp, a, scalar, out, n, reverse) => {
      if (!isF32(a, out) || n < 2 * PARALLEL_MAP) return ref.binaryScalar(op, a, scalar, out, n, reverse);
      map({ kind: 'binaryScalar', op, a: f32(a)!, scalar, out: f32(out)!, n, reverse, chunk: 0 });
    },
    biasAdd: (x, b, N, C, HW, y) => {
      if (!isF32(x, b, y) || N * C * HW < 2 * PARALLEL_MAP) return ref.biasAdd(x, b, N, C, HW, y);
      map({ kind: 'biasAdd', x: f32(x)!, b: f32(b)!, C, HW, y: f32(y)!, n: N * C, chunk: 0 }, N * C * HW);
    },
    maxPoolForward: (x, N, g, y, argmax) => {
      const planes = N * g.C, n = planes * g.H * g.W;
      if (!isF32(x, y) || !(argmax instanceof Int32Array) || !isShared(argmax) || n < 2 * PARALLEL_MAP) return ref.maxPoolForward(x, N, g, y, argmax);
      map({ kind: 'maxPoolForward', x: f32(x)!, g, y: f32(y)!, argmax, n: planes, chunk: 0 }, n);
    },
    maxPoolBackward: (dy, argmax, N, g, dx) => {
      const planes = N * g.C, n = planes * g.H * g.W;
      if (!isF32(dy, dx) || !(argmax instanceof Int32Array) || !isShared(argmax) || n < 2 * PARALLEL_MAP) return ref.maxPoolBackward(dy, argmax, N, g, dx);
      map({ kind: 'maxPoolBackward', dy: f32(dy)!, argmax, g, dx: f32(dx)!, n: planes, chunk: 0 }, n);
    },
    avgPoolForward: ref.avgPoolForward,
    avgPoolBackward: ref.avgPoolBackward,

    binary: ref.binary,
    copy: ref.copy,
    reduce: ref.reduce,
    scatterAdd: ref.scatterAdd,
    sumOfSquares: ref.sumOfSquares,
    softmax: ref.softmax,
    softmaxBackward: ref.softmaxBackward,
    costRows: ref.costRows,
    costGrad: ref.costGrad,
    biasBackward: ref.biasBackward,
    dropoutMask: ref.dropoutMask,
    gdmUpdate: (p, g, v, n, step: GdmStep) => {
      if (!isF32(p, g, v) || n < 2 * PARALLEL_MAP) return ref.gdmUpdate(p, g, v, n, step);
      map({ kind: 'gdm', p: f32(p)!, g: f32(g), v: f32(v), step, n, chunk: 0 });
    },
  };

  const threadActivity: ThreadActivity = {
    get threads() { return pool.numThreads; },
    get recording() { return pool.activity.recording; },
    set recording(on: boolean) { pool.activity.recording = on; },
    read: () => pool.activity.read(),
  };
  const backend: Backend = { ...assembleBackend({ name: 'cpu', description, dtypes: ['float32', 'float64'], convAlgorithm }, simdStorage(), kernels), threadActivity };

  /** The backward of a batch in groups of images; the weight gradient of group t into its own slice, summed in group order. */
  function convBackwardGroups(x: Float32Array, N: number, w: Float32Array, K: number, g: WindowGeometry, dy: Float32Array, dx: Float32Array | null, dw: Float32Array | null, groups: number): void {
    const KCRS = K * g.C * g.R * g.S;
    const dwParts = dw ? sharedF32(groups * KCRS) : null;
    pool.run({ kind: 'convBackward', x, N, w, K, g, dy, dx, dwParts, groups, tile: winogradTileMode(), U: dx ? sharedFilters(w, K, g, true) : null }, groups);
    if (dw && dwParts) {
      for (let t = 0; t < groups; t++) {
        const o = t * KCRS;
        for (let i = 0; i < KCRS; i++) dw[i]! += dwParts[o + i]!;
      }
      releaseF32(dwParts);
    }
  }

  made = { backend, pool };
  return made;
}
