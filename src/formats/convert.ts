// Element-type conversion to float32 and the layout permutations the readers share.

import { TlError } from '../util/errors.js';
import { halfToFloat, NpArray } from './pickle/index.js';

/** Element types the readers convert to float32. */
export type ElemType =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

export const ELEM_SIZE: Record<ElemType, number> = {
  float16: 2, bfloat16: 2, float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8,
  uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1,
};

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Product of dims, with a check against absurd shapes. */
export function numel(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new TlError(`${where}: invalid dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n) || n > 2 ** 32) throw new TlError(`${where}: shape [${shape.join(', ')}] is absurdly large`);
  return n;
}

/**
 * Convert `count` elements of `type` in `bytes` to float32. Returns a view of `bytes`
 * (no copy) when they already are aligned float32 in host order and `allowView` is set.
 */
export function toFloat32(
  bytes: Uint8Array,
  type: ElemType,
  littleEndian: boolean,
  count: number,
  where: string,
  allowView = true,
): Float32Array {
  const size = ELEM_SIZE[type];
  if (bytes.length < count * size) {
    throw new TlError(`${where}: needs ${count * size} bytes of ${type} data but only ${bytes.length} are there`);
  }
  if (type === 'float32' && littleEndian === HOST_LE) {
    if (allowView && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
    return out;
  }
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  const le = littleEndian;
  switch (type) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, le);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, le);
      break;
    case 'float16': {
      const table = halfTable();
      for (let i = 0; i < count; i++) out[i] = table[dv.getUint16(i * 2, le)]!;
      break;
    }
    case 'bfloat16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, le) << 16;
      break;
    }
    case 'int8':
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, le);
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, le);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, le);
      break;
    case 'uint32':
      for (let i = 0; i < count; i++) out[i] = dv.getUint32(i * 4, le);
      break;
    case 'int64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, le));
      break;
    case 'uint64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigUint64(i * 8, le));
      break;
  }
  return out;
}

let HALF: Float32Array | null = null;
function halfTable(): Float32Array {
  if (!HALF) {
    HALF = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF[i] = halfToFloat(i);
  }
  return HALF;
}

/** The ElemType of a numpy dtype, or undefined when we do not convert it. */
function npElemType(kind: string, itemsize: number): ElemType | undefined {
  const t = `${kind}${itemsize}`;
  const map: Record<string, ElemType> = {
    f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
    u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool',
  };
  return map[t];
}

/**
 * A numpy array as row-major (C order) float32. Zero-copy when the file stores aligned
 * little-endian float32 in C order (moving the bytes a few places back inside the pickle
 * buffer if needed, see PyBytes.alignTo).
 */
export function npToFloat32(a: NpArray, where: string): Float32Array {
  if (!a.dtype || !a.raw) throw new TlError(`${where}: numpy array has no data`);
  const t = npElemType(a.dtype.kind, a.dtype.itemsize);
  if (!t || a.dtype.structured) throw new TlError(`${where}: numpy dtype ${a.dtype.str} cannot be converted to float32`);
  const n = numel(a.shape, where);
  const le = a.dtype.byteorder !== '>';
  if (t === 'float32' && le === HOST_LE) a.raw.alignTo(4);
  let out = toFloat32(a.raw.data, t, le, n, where);
  if (a.fortran && a.shape.length > 1) out = fortranToC(out, a.shape);
  return out;
}

/** Reorder column-major data of `shape` into row-major. */
function fortranToC(src: Float32Array, shape: readonly number[]): Float32Array {
  // Fortran order of shape s is C order of the reversed shape; reverse the axes back.
  const rev = [...shape].reverse();
  const perm = rev.map((_, i) => rev.length - 1 - i);
  return permute(src, rev, perm);
}

/**
 * General axis permutation: out has shape perm.map(i => shape[i]), and
 * out[j0, j1, ...] = src[... index with axis perm[k] = jk ...] (numpy's transpose(perm)).
 */
function permute(src: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const nd = shape.length;
  const n = src.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  if (nd <= 1) {
    out.set(src);
    return out;
  }
  const srcStrides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    srcStrides[d] = s;
    s *= shape[d]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => srcStrides[p]!);
  // Innermost axis in a tight loop, the rest through an odometer.
  const last = nd - 1;
  const innerN = outShape[last]!;
  const innerStride = strides[last]!;
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  let base = 0;
  while (o < n) {
    for (let i = 0, p = base; i < innerN; i++, p += innerStride) out[o++] = src[p]!;
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < outShape[d]!) break;
      base -= strides[d]! * outShape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

/** 2-D transpose: src is rows x cols row-major, out is cols x rows. Blocked for cache use. */
function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const rowBase = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[rowBase + c]!;
      }
    }
  }
  return out;
}

/** neon conv W (C·R·S, K) -> [K, C, R, S]: W.reshape(C,R,S,K).transpose(3,0,1,2), a 2-D transpose. */
export function neonConvToKCRS(src: Float32Array, crs: number, k: number): Float32Array {
  return transpose2d(src, crs, k);
}

/** Keras/TF HWIO kernel (R, S, C, K) -> [K, C, R, S]. */
export function hwioToKCRS(src: Float32Array, r: number, s: number, c: number, k: number): Float32Array {
  return permute(src, [r, s, c, k], [3, 2, 0, 1]);
}

/** Collect layer names in "natural" order: numeric parts compare as numbers ('features.2' < 'features.10'). */
export function naturalCompare(a: string, b: string): number {
  const ra = a.split(/(\d+)/);
  const rb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    if (i % 2 === 1) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}
