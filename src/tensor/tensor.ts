// A Tensor is a logical view (shape, strides, offset) over flat storage, plus the
// autograd fields: whether gradients are wanted, the accumulated gradient, and the graph
// node (`gradFn`) that produced it. Operations live in src/autograd/ops; the methods here
// are thin conveniences over them.
import type { FloatArray } from '../kernels/backend.js';
import { ShapeError } from '../util/errors.js';
import { contiguousStrides, sizeOf, shapeStr, type Shape } from './shape.js';
import type { GradFn } from '../autograd/graph.js';
import * as ops from '../autograd/ops/index.js';
import { backward as runBackward } from '../autograd/graph.js';

export type DType = 'float32' | 'float64';

export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

export function allocate(dtype: DType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

export class Tensor {
  readonly storage: FloatArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The graph node that computed this tensor; null for leaves and for results computed without grad. */
  gradFn: GradFn | null = null;

  constructor(storage: FloatArray, shape: Shape, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    if (!strides && offset + sizeOf(shape) > storage.length) {
      throw new ShapeError(`Tensor: shape ${shapeStr(shape)} needs ${sizeOf(shape)} values, storage holds ${storage.length - offset}`);
    }
  }

  get dtype(): DType {
    return dtypeOf(this.storage);
  }
  get ndim(): number {
    return this.shape.length;
  }
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
   * The values in row-major order as one contiguous typed array. A view of the storage when
   * the tensor is contiguous (writes go through to the tensor), otherwise a fresh copy.
   */
  get data(): FloatArray {
    if (this.isContiguous()) {
      return this.offset === 0 && this.storage.length === this.size ? this.storage : this.storage.subarray(this.offset, this.offset + this.size);
    }
    return ops.contiguous(this).storage;
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
    return this.storage[this.offset]!;
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
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  requiresGrad_(flag = true): this {
    if (this.gradFn && !flag) throw new Error('requiresGrad_(false) on a non-leaf tensor: use detach()');
    this.requiresGrad = flag;
    return this;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // Conveniences over the ops (see src/autograd/ops for forward and backward).
  add(b: Tensor | number): Tensor { return ops.add(this, b); }
  sub(b: Tensor | number): Tensor { return ops.sub(this, b); }
  mul(b: Tensor | number): Tensor { return ops.mul(this, b); }
  div(b: Tensor | number): Tensor { return ops.div(this, b); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  matmul(b: Tensor): Tensor { return ops.matmul(this, b); }
  sum(axes?: number | number[], keepdims = false): Tensor { return ops.sum(this, axes, keepdims); }
  mean(axes?: number | number[], keepdims = false): Tensor { return ops.mean(this, axes, keepdims); }
  max(axes?: number | number[], keepdims = false): Tensor { return ops.max(this, axes, keepdims); }
  reshape(shape: Shape): Tensor { return ops.reshape(this, shape); }
  view(shape: Shape): Tensor { return ops.view(this, shape); }
  permute(order: readonly number[]): Tensor { return ops.permute(this, order); }
  transpose(a = -2, b = -1): Tensor { return ops.transpose(this, a, b); }
  contiguous(): Tensor { return ops.contiguous(this); }
  slice(start: number, end: number, axis = 0): Tensor { return ops.slice(this, start, end, axis); }
  relu(): Tensor { return ops.relu(this); }
}
