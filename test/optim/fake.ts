// Tiny fake ParamLayers for optimizer tests.
import { tensor, zeros } from '../../src/index.js';
import type { Param, ParamLayer } from '../../src/layers/param.js';

export interface FakeParamSpec {
  name?: string;
  value: ArrayLike<number>;
  grad?: ArrayLike<number>;
}

export function fakeParam(spec: FakeParamSpec): Param {
  const value = tensor(Float32Array.from(spec.value), [spec.value.length]);
  const grad = spec.grad ? tensor(Float32Array.from(spec.grad), [spec.grad.length]) : zeros([spec.value.length]);
  return { name: spec.name ?? 'W', value, grad, states: [] };
}

export function fakeLayer(name: string, className: string, params: FakeParamSpec[]): ParamLayer & { ps: Param[] } {
  const ps = params.map(fakeParam);
  return { name, className, computeParamGrads: true, ps, params: () => ps };
}

/** Overwrite a param's summed gradient. */
export function setGrad(p: Param, g: ArrayLike<number>): void {
  p.grad.data.set(Array.from(g));
}

export const f32 = (xs: ArrayLike<number>): number[] => Array.from(Float32Array.from(xs));
export const vals = (p: Param): number[] => Array.from(p.value.data);
export const vel = (p: Param): number[] => Array.from(p.states[0]!.data);
export const bits = (p: Param): number[] => Array.from(new Uint32Array(Float32Array.from(p.value.data).buffer));
