// The reference backend (`-b ref`): every kernel the textbook way, in plain single-threaded
// TypeScript over typed arrays, written to be read and checked by hand: gemm as a triple
// loop, convolution and its gradients as direct sums over the window, pooling window by
// window. Every other backend is held to it (test/kernels/conformance.test.ts).
//
// The kernels (one file each) take host arrays; the table below is the backend's list of
// kernels, one row each, unboxing its buffers for the kernel's function. Storage is in
// storage.ts. `hostBackend` builds such a backend from a way to box a host array into a
// buffer and back: `ref`'s buffers are the arrays themselves; the test backend `boxed`
// (test/helpers/backends.ts) keeps them behind handles.
import { assembleBackend, type Backend, type KernelTable } from '../../backend.js';
import { biasAdd, biasBackward } from './bias.js';
import { conv2dBackward, conv2dForward } from './conv.js';
import { costGrad, costRows } from './cost.js';
import { dropoutMask } from './dropout.js';
import { binary, binaryScalar, copy, unary, unaryBackward } from './elementwise.js';
import { gdmUpdate } from './gdm.js';
import { gemm } from './gemm.js';
import { linearForward } from './linear.js';
import { col2im, im2col } from './im2col.js';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './pool.js';
import { reduce, scatterAdd, sumOfSquares } from './reduce.js';
import { softmax, softmaxBackward } from './softmax.js';
import { hostStorage, hostViews, unboxed, type HostBoxing } from './storage.js';

export { unboxed, type HostArray, type HostBoxing } from './storage.js';

/** The reference kernels over buffers boxed as `boxing` says (`name` goes into the errors about a buffer of the wrong kind). */
export function hostKernelTable(name: string, boxing: HostBoxing): KernelTable {
  const { f, fn, idx, s } = hostViews(name, boxing);
  return {
    gemm: (tA, tB, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc) => gemm(tA, tB, M, N, K, alpha, f(A), ao, lda, f(B), bo, ldb, beta, f(C), co, ldc),
    im2col: (x, xo, g, cols, co, ld) => im2col(f(x), xo, g, f(cols), co, ld),
    col2im: (cols, g, dx, dxo, co, ld) => col2im(f(cols), g, f(dx), dxo, co, ld),
    conv2dForward: (x, N, w, K, b, g, y, relu) => conv2dForward(f(x), N, f(w), K, fn(b), g, f(y), relu ?? false),
    conv2dBackward: (x, N, w, K, g, dy, dx, dw, db) => conv2dBackward(f(x), N, f(w), K, g, f(dy), fn(dx), fn(dw), fn(db)),
    linearForward: (x, N, nin, w, nout, b, y, relu) => linearForward(f(x), N, nin, f(w), nout, fn(b), f(y), relu ?? false),

    maxPoolForward: (x, N, g, y, argmax) => maxPoolForward(f(x), N, g, f(y), idx(argmax)),
    maxPoolBackward: (dy, argmax, N, g, dx) => maxPoolBackward(f(dy), idx(argmax), N, g, f(dx)),
    avgPoolForward: (x, N, g, countPad, y) => avgPoolForward(f(x), N, g, countPad, f(y)),
    avgPoolBackward: (dy, N, g, countPad, dx) => avgPoolBackward(f(dy), N, g, countPad, f(dx)),

    unary: (op, x, y, n) => unary(op, f(x), f(y), n),
    unaryBackward: (op, x, y, dy, dx, n) => unaryBackward(op, fn(x), fn(y), f(dy), f(dx), n),
    binary: (op, a, b, out) => binary(op, s(a), s(b), f(out)),
    binaryScalar: (op, a, scalar, out, n, reverse) => binaryScalar(op, f(a), scalar, f(out), n, reverse),
    copy: (x, out) => copy(s(x), s(out)),

    reduce: (op, x, shape, axes, out, argmax) => reduce(op, f(x), shape, axes, f(out), argmax && idx(argmax)),
    scatterAdd: (dy, index, n, dx) => scatterAdd(f(dy), idx(index), n, f(dx)),
    sumOfSquares: (x, offset, n) => sumOfSquares(f(x), offset, n),

    softmax: (x, rows, cols, log, y) => softmax(f(x), rows, cols, log, f(y)),
    softmaxBackward: (y, dy, rows, cols, log, dx) => softmaxBackward(f(y), f(dy), rows, cols, log, f(dx)),
    costRows: (cost, y, t, rows, K, out) => costRows(cost, f(y), f(t), rows, K, f(out)),
    costGrad: (cost, y, t, n, scale, dy) => costGrad(cost, f(y), f(t), n, scale, f(dy)),

    biasAdd: (x, b, N, C, HW, y) => biasAdd(f(x), f(b), N, C, HW, f(y)),
    biasBackward: (dy, N, C, HW, db, accumulate) => biasBackward(f(dy), N, C, HW, f(db), accumulate),
    dropoutMask: (mask, n, keep, scale, random) => dropoutMask(f(mask), n, keep, scale, random),
    gdmUpdate: (p, g, v, n, step) => gdmUpdate(f(p), fn(g), fn(v), n, step),
  };
}

/** The reference kernels behind the Backend interface, with buffers boxed as `boxing` says. */
export function hostBackend(name: string, description: string, boxing: HostBoxing): Backend {
  return assembleBackend({ name, description, dtypes: ['float32', 'float64'] }, hostStorage(name, boxing), hostKernelTable(name, boxing));
}

/** The reference backend `ref`: buffers are the typed arrays themselves. */
export const refBackend: Backend = hostBackend('ref', 'src/kernels/cpu/ref/: the textbook kernels, plain TypeScript, single-threaded (the readable reference)', unboxed);
