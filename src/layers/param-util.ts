import { zeros } from '../autograd/ops/create.js';
import { allocate, type DType, type Tensor } from '../tensor/tensor.js';
import { Constant, GlorotUniform, Gaussian, Kaiming, Uniform, Xavier, type Initializer } from './initializers.js';
import type { Param } from './param.js';

/**
 * A parameter of `shape` with no state yet. Its gradient (zeros of the same shape, on the
 * value's backend) is made on first use: a model that only runs inference (evaluation,
 * `predict`, feature extraction) never allocates one, which for VGG-16 saves 553 MB.
 */
export function makeParam(name: string, shape: readonly number[], dtype: DType = 'float32'): Param {
  const value = zeros(shape, { dtype });
  let grad: Tensor | null = null;
  return {
    name,
    value,
    get grad(): Tensor {
      grad ??= zeros(shape, { dtype, backend: value.backend });
      return grad;
    },
    states: [],
  };
}

/** The built-in initializers draw each value in turn from the generator, so filling in slices gives the same values as filling at once. */
const SEQUENTIAL = [Constant, Uniform, Gaussian, GlorotUniform, Xavier, Kaiming];
/** Values drawn on the host per slice (4 MB of float32). */
const SLICE = 1 << 20;

/**
 * Fills the parameter's value with the initializer: drawn on the host in row-major order,
 * then uploaded. The built-in initializers go a slice at a time, so initializing a large
 * layer (VGG-16's fc6: 103 M values) does not hold a second, host copy of it at once.
 */
export function initParam(p: Param, init: Initializer, fans: [number, number]): void {
  const v = p.value;
  if (!SEQUENTIAL.some((c) => init instanceof c) || v.size <= SLICE || !v.isContiguous()) {
    const host = allocate(v.dtype, v.size);
    init.fill(host, fans);
    v.setValues(host);
    return;
  }
  const host = allocate(v.dtype, SLICE);
  for (let off = 0; off < v.size; off += SLICE) {
    const part = off + SLICE <= v.size ? host : host.subarray(0, v.size - off);
    init.fill(part, fans);
    v.backend.write(v.storage, v.offset + off, part);
  }
}
