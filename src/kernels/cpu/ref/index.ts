// The reference backend: every kernel plain, single-threaded TypeScript over typed arrays,
// written to be read. The kernels themselves (`hostKernels`) take host arrays; the
// backend object wraps them behind the Backend interface, whose buffers are opaque.
//
// `hostBackend` builds such a backend from a way to box a host array into a buffer and to
// unbox it again. The `ref` backend's buffers are the typed arrays themselves (no cost);
// a test backend whose buffers are handle objects (test/helpers/backends.ts) runs the same
// kernels and proves that nothing above the seam treats a buffer as an array.
import type { Backend, DeviceBuffer, DType, FloatArray, Strided } from '../../backend.js';
import { biasAdd, biasBackward } from './bias.js';
import { conv2dBackward, conv2dForward } from '../simd/conv.js';
import { costGrad, costRows } from './cost.js';
import { dropoutMask } from './dropout.js';
import { binary, binaryScalar, copy, unary, unaryBackward, type HostStrided } from './elementwise.js';
import { gdmUpdate } from './gdm.js';
import { gemm } from './gemm.js';
import { col2im, im2col } from './im2col.js';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './pool.js';
import { reduce, scatterAdd, sumOfSquares } from './reduce.js';
import { softmax, softmaxBackward } from './softmax.js';

/** The reference kernels over host arrays, under the Backend's method names. */
export const hostKernels = {
  gemm, im2col, col2im, conv2dForward, conv2dBackward,
  maxPoolForward, maxPoolBackward, avgPoolForward, avgPoolBackward,
  unary, unaryBackward, binary, binaryScalar, copy,
  reduce, scatterAdd, sumOfSquares, softmax, softmaxBackward, costRows, costGrad,
  biasAdd, biasBackward, dropoutMask, gdmUpdate,
};

/** A host buffer: a float or int32 typed array. */
export type HostArray = FloatArray | Int32Array;

export interface HostBoxing {
  box(a: HostArray): DeviceBuffer;
  unbox(b: DeviceBuffer): HostArray;
}

/** The reference kernels behind the Backend interface, with buffers boxed as `boxing` says. */
export function hostBackend(name: string, description: string, boxing: HostBoxing): Backend {
  const { box } = boxing;
  const f = (b: DeviceBuffer): FloatArray => {
    const a = boxing.unbox(b);
    if (a instanceof Int32Array) throw new Error(`backend '${name}': an index buffer was passed where values were expected`);
    return a;
  };
  const fn = (b: DeviceBuffer | null): FloatArray | null => (b === null ? null : f(b));
  const idx = (b: DeviceBuffer): Int32Array => {
    const a = boxing.unbox(b);
    if (!(a instanceof Int32Array)) throw new Error(`backend '${name}': a value buffer was passed where int32 indices were expected`);
    return a;
  };
  const s = (v: Strided): HostStrided => ({ data: f(v.data), offset: v.offset, shape: v.shape, strides: v.strides });
  const alloc = (dtype: DType, n: number): FloatArray => (dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));
  return {
    name,
    description,
    dtypes: ['float32', 'float64'],

    alloc: (dtype, n) => box(alloc(dtype, n)),
    allocIndex: (n) => box(new Int32Array(n)),
    upload: (values) => box(values),
    read: (b, offset, n) => {
      const a = f(b);
      return offset === 0 && n === a.length ? a : a.subarray(offset, offset + n);
    },
    write: (b, offset, values) => f(b).set(values, offset),
    fill: (b, value, offset, n) => void f(b).fill(value, offset, offset + n),
    dtypeOf: (b) => (f(b) instanceof Float64Array ? 'float64' : 'float32'),
    lengthOf: (b) => boxing.unbox(b).length,
    // the garbage collector frees a plain array once nothing refers to it
    release: () => {},

    gemm: (tA, tB, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc) => gemm(tA, tB, M, N, K, alpha, f(A), ao, lda, f(B), bo, ldb, beta, f(C), co, ldc),
    im2col: (x, xo, g, cols, co, ld) => im2col(f(x), xo, g, f(cols), co, ld),
    col2im: (cols, g, dx, dxo, co, ld) => col2im(f(cols), g, f(dx), dxo, co, ld),
    conv2dForward: (x, N, w, K, b, g, y) => conv2dForward(f(x), N, f(w), K, fn(b), g, f(y)),
    conv2dBackward: (x, N, w, K, g, dy, dx, dw, db) => conv2dBackward(f(x), N, f(w), K, g, f(dy), fn(dx), fn(dw), fn(db)),

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

/** The reference backend `ref`: buffers are the typed arrays themselves. */
export const refBackend: Backend = hostBackend('ref', 'plain TypeScript kernels, single-threaded (the readable reference)', {
  box: (a) => a as unknown as DeviceBuffer,
  unbox: (b) => b as unknown as HostArray,
});
