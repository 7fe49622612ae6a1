// Reductions over any set of axes of a contiguous array, keeping reduced axes as size 1.
import type { FloatArray } from '../../backend.js';

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
  const nOut = s;
  out.fill(op === 'sum' ? 0 : -Infinity, 0, nOut);
  if (argmax) argmax.fill(-1, 0, nOut);
  let n = 1;
  for (const d of shape) n *= d;
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

/** dx[index[i]] += dy[i] where index[i] ≥ 0 (the backward of a max-reduce). */
export function scatterAdd(dy: FloatArray, index: Int32Array, n: number, dx: FloatArray): void {
  for (let i = 0; i < n; i++) {
    const j = index[i]!;
    if (j >= 0) dx[j]! += dy[i]!;
  }
}

/** Σ x[offset .. offset + n)² in float64. */
export function sumOfSquares(x: FloatArray, offset: number, n: number): number {
  let s = 0;
  for (let i = offset; i < offset + n; i++) s += x[i]! * x[i]!;
  return s;
}
