// The reference backend's storage: host typed arrays, boxed into opaque buffers as a
// HostBoxing says. The `ref` backend's buffers are the typed arrays themselves (no cost);
// a test backend whose buffers are handle objects (test/helpers/backends.ts) runs the same
// kernels and proves that nothing above the seam treats a buffer as an array.
import type { DeviceBuffer, DType, FloatArray, StorageMethods, Strided } from '../../backend.js';
import type { HostStrided } from './elementwise.js';

/** A host buffer: a float or int32 typed array. */
export type HostArray = FloatArray | Int32Array;

export interface HostBoxing {
  box(a: HostArray): DeviceBuffer;
  unbox(b: DeviceBuffer): HostArray;
}

/** A typed array as a buffer and back: the boxing of backends whose buffers are the arrays. */
export const unboxed: HostBoxing = {
  box: (a) => a as unknown as DeviceBuffer,
  unbox: (b) => b as unknown as HostArray,
};

/** How a kernel row unboxes its arguments, with an error naming the backend where a buffer has the wrong kind. */
export interface HostViews {
  /** A value buffer's array. */
  f(b: DeviceBuffer): FloatArray;
  /** f, or null for null. */
  fn(b: DeviceBuffer | null): FloatArray | null;
  /** An index buffer's array. */
  idx(b: DeviceBuffer): Int32Array;
  /** A strided view over the array. */
  s(v: Strided): HostStrided;
}

export function hostViews(name: string, boxing: HostBoxing): HostViews {
  const f = (b: DeviceBuffer): FloatArray => {
    const a = boxing.unbox(b);
    if (a instanceof Int32Array) throw new Error(`backend '${name}': an index buffer was passed where values were expected`);
    return a;
  };
  const idx = (b: DeviceBuffer): Int32Array => {
    const a = boxing.unbox(b);
    if (!(a instanceof Int32Array)) throw new Error(`backend '${name}': a value buffer was passed where int32 indices were expected`);
    return a;
  };
  return {
    f,
    fn: (b) => (b === null ? null : f(b)),
    idx,
    s: (v) => ({ data: f(v.data), offset: v.offset, shape: v.shape, strides: v.strides }),
  };
}

/** Storage in host typed arrays, boxed as `boxing` says. */
export function hostStorage(name: string, boxing: HostBoxing): StorageMethods {
  const { box } = boxing;
  const { f } = hostViews(name, boxing);
  const alloc = (dtype: DType, n: number): FloatArray => (dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));
  return {
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
  };
}
