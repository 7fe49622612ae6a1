// Reductions over any set of axes of a contiguous array, keeping reduced axes as size 1.
import type { FloatArray } from '../backend.js';

export function reduce(op: 'sum' | 'max', x: FloatArray, shape: readonly number[], axes: readonly number[], out: FloatArray, argmax?: Int32Array): void {
  const nd = shape.length;
  const reduced = new Array<boolean>(nd).fill(false);
  for (const a of axes) reduced[a] = true;
  // Output strides in x's index space: 0 on reduced axes.
  const outStrides = new Array<number>(nd).fill(0);
  let s = 1;
  for (let k = nd - 1; k >= 0; k--) {
    if (!reduced[k]) {
      outStrides[k] = s;
      s *= shape[k]!;
    }
  }
  out.fill(op === 'sum' ? 0 : -Infinity);
  if (argmax) argmax.fill(-1);
  const n = x.length;
  if (n === 0) return;
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (op === 'sum') out[o]! += v;
    else if (argmax![o]! < 0 || v > out[o]! || (Number.isNaN(v) && !Number.isNaN(out[o]!))) {
      out[o] = v;
      argmax![o] = i;
    }
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      o += outStrides[k]!;
      if (idx[k]! < shape[k]!) break;
      o -= outStrides[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
}
