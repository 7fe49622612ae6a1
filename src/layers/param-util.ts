import { zeros } from '../autograd/ops/create.js';
import { allocate, type DType } from '../tensor/tensor.js';
import type { Initializer } from './initializers.js';
import type { Param } from './param.js';

/** A parameter of `shape` with a zero gradient of the same shape and no state yet. */
export function makeParam(name: string, shape: readonly number[], dtype: DType = 'float32'): Param {
  return { name, value: zeros(shape, { dtype }), grad: zeros(shape, { dtype }), states: [] };
}

/** Fills the parameter's value with the initializer (drawn on the host in row-major order, then uploaded). */
export function initParam(p: Param, init: Initializer, fans: [number, number]): void {
  const host = allocate(p.value.dtype, p.value.size);
  init.fill(host, fans);
  p.value.setValues(host);
}
