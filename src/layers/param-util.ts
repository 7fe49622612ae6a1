import { zeros } from '../autograd/ops/create.js';
import type { Param } from './param.js';

/** A float32 parameter of `shape` with a zero gradient of the same shape and no state yet. */
export function makeParam(name: string, shape: readonly number[]): Param {
  return { name, value: zeros(shape), grad: zeros(shape), states: [] };
}
