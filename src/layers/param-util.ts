import { zeros } from '../autograd/ops/create.js';
import type { DType } from '../tensor/tensor.js';
import type { Param } from './param.js';

/** A parameter of `shape` with a zero gradient of the same shape and no state yet. */
export function makeParam(name: string, shape: readonly number[], dtype: DType = 'float32'): Param {
  return { name, value: zeros(shape, { dtype }), grad: zeros(shape, { dtype }), states: [] };
}
