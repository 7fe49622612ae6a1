// A Tensor is a logical view (shape, strides, offset) over flat storage that belongs to a
// backend, plus the autograd fields: whether gradients are wanted, the accumulated
// gradient, and the graph node (`gradFn`) that produced it. The storage is an opaque
// buffer: only the tensor's backend reads it, and values reach the host explicitly
// (toHost(), or the `data` convenience). Operations live in src/autograd/ops; the methods
// here are thin conveniences over them.
import type { Backend, DeviceBuffer, DType, FloatArray } from '../kernels/backend.js';
import { backend as defaultBackend, getBackend } from '../kernels/index.js';
import { BackendError, ShapeError } from '../util/errors.js';
import { contiguousStrides, sizeOf, shapeStr, type Shape } from './shape.js';
import type { GradFn } from '../autograd/graph.js';
import * as ops from '../autograd/ops/index.js';
import { backward as runBackward } from '../autograd/graph.js';

export type { DType };

/** A host array of n zeros (for data and file readers; tensors get storage from their backend). */
export function allocate(dtype: DType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** An n-dimensional array: a strided view over storage owned by its backend, with an optional gradient and autograd record. Read values with toHost(), write with setValues(). */
export class Tensor {
  /** The backend's buffer; opaque above src/kernels. */
  readonly storage: DeviceBuffer;
  /** The backend that owns the storage and runs every op on this tensor. */
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The graph node that computed this tensor; null for leaves and for results computed without grad. */
  gradFn: GradFn | null = null;

  /** A view of `storage`, a buffer of backend `be` (the default backend unless given). */
  constructor(storage: DeviceBuffer, shape: Shape, strides?: readonly number[], offset = 0, be: Backend = defaultBackend()) {
    this.storage = storage;
    this.backend = be;
    this.dtype = be.dtypeOf(storage);
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    if (!strides && offset + sizeOf(shape) > be.lengthOf(storage)) {
      throw new ShapeError(`Tensor: shape ${shapeStr(shape)} needs ${sizeOf(shape)} values, storage holds ${be.lengthOf(storage) - offset}`);
    }
  }
  /** Number of axes (shape.length). */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements (the product of the shape). */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** True when the elements sit in row-major order without gaps (size-1 axes ignored). */
  isContiguous(): boolean {
    let s = 1;
    for (let k = this.shape.length - 1; k >= 0; k--) {
      if (this.shape[k] !== 1 && this.strides[k] !== s) return false;
      s *= this.shape[k]!;
    }
    return true;
  }

  /**
   * The values in row-major order on the host: the explicit read-back from the backend.
   * On a host backend (cpu) this may be a view of the storage: treat it as read-only and
   * change values with setValues().
   */
  toHost(): FloatArray {
    const t = this.isContiguous() ? this : ops.contiguous(this);
    return t.backend.read(t.storage, t.offset, t.size);
  }

  /** The same as toHost(): a documented convenience that downloads the values. Read-only. */
  get data(): FloatArray {
    return this.toHost();
  }

  /** Overwrites the values (row-major) from the host; the tensor must be contiguous. */
  setValues(values: ArrayLike<number>): this {
    if (values.length !== this.size) throw new ShapeError(`setValues: ${values.length} values for a tensor of shape ${shapeStr(this.shape)} (${this.size} values)`);
    if (!this.isContiguous()) throw new ShapeError(`setValues: tensor of shape ${shapeStr(this.shape)} is not contiguous`);
    const host = values instanceof (this.dtype === 'float64' ? Float64Array : Float32Array) ? (values as FloatArray) : allocate(this.dtype, values.length);
    if (host !== values) host.set(values);
    this.backend.write(this.storage, this.offset, host);
    return this;
  }

  /** A copy of this tensor on another backend, given as a Backend or a registered name ('cpu', 'ref', 'gpu'); cut off from the graph. */
  to(target: Backend | string): Tensor {
    const be = typeof target === 'string' ? getBackend(target) : target;
    if (!be.dtypes.includes(this.dtype)) throw new BackendError(`to(${be.name}): backend '${be.name}' does not store ${this.dtype} (it stores ${be.dtypes.join(', ')})`);
    const host = this.toHost();
    const copy = allocate(this.dtype, host.length);
    copy.set(host);
    return new Tensor(be.upload(copy), this.shape, undefined, 0, be);
  }

  /** Nested JavaScript arrays (or a number for a 0-d tensor), for printing and tests. */
  toArray(): unknown {
    const d = this.data;
    const build = (axis: number, base: number): unknown => {
      if (axis === this.ndim) return d[base];
      const step = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => build(axis + 1, base + i * step));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item(): tensor of shape ${shapeStr(this.shape)} has ${this.size} values, expected 1`);
    return this.backend.read(this.storage, this.offset, 1)[0]!;
  }

  /**
   * Back-propagate from this tensor. `outputGrad` (same shape) defaults to 1 for a
   * one-element tensor, as in PyTorch. Gradients accumulate into `.grad` of every leaf
   * that requires grad.
   */
  backward(outputGrad?: Tensor | FloatArray | number[]): void {
    runBackward(this, outputGrad);
  }

  /** A tensor sharing storage with this one but cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset, this.backend);
  }

  /** Set whether backward() computes a gradient for this tensor; returns this. */
  requiresGrad_(flag = true): this {
    if (this.gradFn && !flag) throw new Error('requiresGrad_(false) on a non-leaf tensor: use detach()');
    this.requiresGrad = flag;
    return this;
  }

  /** Drop the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /** Shape, dtype and values, for printing. */
  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}, ${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // Conveniences over the ops (see src/autograd/ops for forward and backward).
  /** Method form of the `add` op. */
  add(b: Tensor | number): Tensor { return ops.add(this, b); }
  /** Method form of the `sub` op. */
  sub(b: Tensor | number): Tensor { return ops.sub(this, b); }
  /** Method form of the `mul` op. */
  mul(b: Tensor | number): Tensor { return ops.mul(this, b); }
  /** Method form of the `div` op. */
  div(b: Tensor | number): Tensor { return ops.div(this, b); }
  /** Method form of the `neg` op. */
  neg(): Tensor { return ops.neg(this); }
  /** Method form of the `exp` op. */
  exp(): Tensor { return ops.exp(this); }
  /** Method form of the `log` op. */
  log(): Tensor { return ops.log(this); }
  /** Method form of the `matmul` op. */
  matmul(b: Tensor): Tensor { return ops.matmul(this, b); }
  /** Method form of the `sum` op. */
  sum(axes?: number | number[], keepdims = false): Tensor { return ops.sum(this, axes, keepdims); }
  /** Method form of the `mean` op. */
  mean(axes?: number | number[], keepdims = false): Tensor { return ops.mean(this, axes, keepdims); }
  /** Method form of the `max` op. */
  max(axes?: number | number[], keepdims = false): Tensor { return ops.max(this, axes, keepdims); }
  /** Method form of the `reshape` op. */
  reshape(shape: Shape): Tensor { return ops.reshape(this, shape); }
  /** Method form of the `view` op. */
  view(shape: Shape): Tensor { return ops.view(this, shape); }
  /** Method form of the `permute` op. */
  permute(order: readonly number[]): Tensor { return ops.permute(this, order); }
  /** Method form of the `transpose` op. */
  transpose(a = -2, b = -1): Tensor { return ops.transpose(this, a, b); }
  /** Method form of the `contiguous` op. */
  contiguous(): Tensor { return ops.contiguous(this); }
  /** Method form of the `slice` op. */
  slice(start: number, end: number, axis = 0): Tensor { return ops.slice(this, start, end, axis); }
  /** Method form of the `relu` op. */
  relu(): Tensor { return ops.relu(this); }
}
