// numpy inside a pickle: dtype specs, scalars, the state a BUILD gives an ndarray or a dtype
// (checked as numpy's __setstate__ checks it), array data arriving as bytes or as a latin-1
// str (`_codecs.encode`), and reading a small array's elements.

import { intValue, latin1Encode, utf8ToLatin1 } from './decode.js';
import { argCount, describe, isTuple, NpArray, NpDtype, PyBytes, PyLargeText, pyNumber, pyText, type CallContext } from './values.js';

export function parseDtypeSpec(spec: string, ctx: CallContext): NpDtype {
  // numpy pickles dtypes as dtype('f4', False, True); also accept '<f4', 'float32', 'b1', 'O8'.
  const named: Record<string, [string, number]> = {
    float16: ['f', 2], float32: ['f', 4], float64: ['f', 8], int8: ['i', 1], int16: ['i', 2], int32: ['i', 4],
    int64: ['i', 8], uint8: ['u', 1], uint16: ['u', 2], uint32: ['u', 4], uint64: ['u', 8], bool: ['b', 1],
  };
  let order: '<' | '>' | '|' | null = null;
  let s = spec;
  if (s.length > 0 && '<>|='.includes(s[0]!)) {
    const o = s[0]!;
    order = o === '=' ? '<' : (o as '<' | '>' | '|');
    s = s.slice(1);
  }
  let dt: NpDtype;
  if (named[s]) {
    dt = new NpDtype(named[s]![0], named[s]![1]);
  } else {
    const m = /^([a-zA-Z])(\d+)$/.exec(s);
    if (!m) ctx.fail(`unsupported numpy dtype '${spec}'`);
    const size = Number(m[2]);
    if (!Number.isSafeInteger(size) || size <= 0 || size > 1 << 20) ctx.fail(`numpy dtype '${spec}' has an invalid size`);
    dt = new NpDtype(m[1]!, size);
  }
  if (order && dt.itemsize > 1) dt.byteorder = order === '|' ? '<' : order;
  return dt;
}

export function numpyScalar(args: readonly unknown[], ctx: CallContext): unknown {
  argCount(args, 1, 2, ctx, 'numpy scalar');
  const dt = args[0];
  if (!(dt instanceof NpDtype)) ctx.fail('numpy scalar without a dtype');
  const raw = args.length > 1 ? bytesOf(args[1], ctx) : new Uint8Array(0);
  if (raw.length !== dt.itemsize) ctx.fail(`numpy scalar of dtype ${dt.str} has ${raw.length} bytes, expected ${dt.itemsize}`);
  const a = new NpArray('numpy.ndarray');
  a.dtype = dt;
  a.shape = [];
  a.raw = new PyBytes(raw, false);
  const v = npElements(a, ctx.fail)[0];
  return v;
}

/** Bytes of a bytes-like pickle value (PyBytes, or a str read as latin-1 as numpy does). */
function bytesOf(v: unknown, ctx: CallContext): Uint8Array {
  if (v instanceof PyBytes) return v.data;
  if (typeof v === 'string') {
    const b = latin1Encode(v);
    if (!b) ctx.fail('expected bytes, got a str with characters beyond latin-1');
    return b;
  }
  if (v instanceof PyLargeText) return codecsEncode(v, ctx).data;
  ctx.fail(`expected bytes, got ${describe(v)}`);
}

export function codecsEncode(v: unknown, ctx: CallContext): PyBytes {
  if (typeof v === 'string') {
    const b = latin1Encode(v);
    if (!b) ctx.fail(`_codecs.encode(..., 'latin1') of a str with characters beyond latin-1`);
    return new PyBytes(b, false);
  }
  if (v instanceof PyLargeText) {
    if (v.latin1) return v.latin1;
    const src = v.utf8;
    let dst: Uint8Array;
    if (v.owned && ctx.inPlace) {
      // Transcode in place, moving the start back to a multiple of 4 (within this string's
      // own opcode header) so the result can be viewed as float32 without a copy.
      const shift = Math.min(src.byteOffset % 4, v.room);
      dst = new Uint8Array(src.buffer, src.byteOffset - shift, src.length + shift);
    } else {
      dst = new Uint8Array(src.length);
    }
    const n = utf8ToLatin1(src, dst);
    if (n < 0) ctx.fail(`_codecs.encode(..., 'latin1') of a str with characters beyond latin-1`);
    const ownedHere = v.owned && ctx.inPlace;
    const room = ownedHere ? v.room - (src.byteOffset - dst.byteOffset) : 0;
    v.latin1 = new PyBytes(dst.subarray(0, n), false, room, ownedHere);
    return v.latin1;
  }
  ctx.fail(`_codecs.encode of ${describe(v)}, expected a str`);
}

/** Apply numpy's ndarray.__setstate__ / dtype.__setstate__ checks to a BUILD. */
export function buildNpArray(a: NpArray, state: unknown, ctx: CallContext): void {
  if (!isTuple(state) || (state.length !== 5 && state.length !== 4)) ctx.fail(`numpy array state is ${describe(state)}, expected a 5-tuple`);
  const s = state.length === 5 ? state.slice(1) : state.slice();
  const [shape, dtype, fortran, raw] = s;
  if (!Array.isArray(shape)) ctx.fail(`numpy array shape is ${describe(shape)}`);
  const dims: number[] = [];
  let count = 1;
  for (const d of shape) {
    const n = pyNumber(d);
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) ctx.fail(`numpy array dimension ${describe(d)} is not a non-negative integer`);
    dims.push(n);
    count *= n;
    if (!Number.isSafeInteger(count)) ctx.fail(`numpy array shape (${dims.join(', ')}...) is absurdly large`);
  }
  if (!(dtype instanceof NpDtype)) ctx.fail(`numpy array dtype is ${describe(dtype)}`);
  a.shape = dims;
  a.dtype = dtype;
  a.fortran = fortran === true || fortran === 1;
  if (dtype.kind === 'O' || Array.isArray(raw)) {
    ctx.fail(`numpy object array (dtype ${dtype.str}) of shape (${dims.join(', ')}): object arrays are not supported`);
  }
  let bytes: PyBytes;
  if (raw instanceof PyBytes) bytes = raw;
  else if (raw instanceof PyLargeText) bytes = codecsEncode(raw, ctx);
  else if (typeof raw === 'string') bytes = new PyBytes(bytesOf(raw, ctx), false);
  else ctx.fail(`numpy array data is ${describe(raw)}, expected bytes`);
  const want = count * dtype.itemsize;
  if (bytes.length !== want) {
    ctx.fail(`numpy array of shape (${dims.join(', ')}) and dtype ${dtype.str} needs ${want} bytes but its data holds ${bytes.length}`);
  }
  a.raw = bytes;
}

export function buildNpDtype(d: NpDtype, state: unknown, ctx: CallContext): void {
  if (!isTuple(state) || state.length < 2) ctx.fail(`numpy dtype state is ${describe(state)}`);
  const order = pyText(state[1]);
  if (order === '<' || order === '>') d.byteorder = order;
  else if (order === '=') d.byteorder = '<';
  else if (order === '|') {
    if (d.itemsize === 1 || 'SVUO'.includes(d.kind)) d.byteorder = '|';
  } else ctx.fail(`numpy dtype byte order ${describe(state[1])}`);
  // (version, endian, subarray, names, fields, elsize, alignment, flags[, metadata])
  const version = state[0];
  if (version !== 3 && version !== 4 && version !== 2 && version !== 1 && version !== 0) ctx.fail(`numpy dtype state version ${describe(version)}`);
  if (state.length >= 5 && (state[2] !== null || state[3] !== null)) d.structured = true;
}

/** Element values of a small numpy array (for scalars and tests), C order. */
export function npElements(a: NpArray, fail: (m: string) => never): (number | bigint | boolean)[] {
  const dt = a.dtype;
  if (!dt || !a.raw) fail('numpy array was never built');
  const b = a.raw.data;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = dt.byteorder !== '>';
  const n = a.size;
  const out: (number | bigint | boolean)[] = [];
  const sz = dt.itemsize;
  for (let i = 0; i < n; i++) {
    const o = i * sz;
    switch (`${dt.kind}${sz}`) {
      case 'f2': out.push(halfToFloat(dv.getUint16(o, le))); break;
      case 'f4': out.push(dv.getFloat32(o, le)); break;
      case 'f8': out.push(dv.getFloat64(o, le)); break;
      case 'i1': out.push(dv.getInt8(o)); break;
      case 'i2': out.push(dv.getInt16(o, le)); break;
      case 'i4': out.push(dv.getInt32(o, le)); break;
      case 'i8': out.push(intValue(dv.getBigInt64(o, le))); break;
      case 'u1': out.push(dv.getUint8(o)); break;
      case 'u2': out.push(dv.getUint16(o, le)); break;
      case 'u4': out.push(dv.getUint32(o, le)); break;
      case 'u8': out.push(intValue(dv.getBigUint64(o, le))); break;
      case 'b1': out.push(dv.getUint8(o) !== 0); break;
      default: fail(`numpy dtype ${dt.str} is not supported`);
    }
  }
  if (a.fortran && a.shape.length > 1) {
    // reorder Fortran (column-major) storage to C order
    const c = new Array<number | bigint | boolean>(n);
    const shape = a.shape;
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let f = 0;
      let mul = 1;
      for (let d = 0; d < shape.length; d++) {
        f += idx[d]! * mul;
        mul *= shape[d]!;
      }
      c[i] = out[f]!;
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
    return c;
  }
  return out;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
