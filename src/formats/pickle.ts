// A pickle virtual machine of our own, for protocols 0-5 (all opcodes except the
// out-of-band buffers of protocol 5 and the copyreg extension registry).
//
// It never executes anything: a GLOBAL resolves only through an allow-list of inert
// constructors (numpy arrays and dtypes, plain containers, `_codecs.encode`, and what the
// caller adds, e.g. torch's tensor rebuild functions). Every other global is refused with
// a TlError naming it and the file. Limits on nesting, memo size, stack size and string
// sizes guard against absurd input; a string claiming more bytes than the file holds is an
// error before anything is allocated.
//
// Values:
//   None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
//   str -> string (large ones: PyLargeText), bytes and Python 2 str -> PyBytes (a view into
//   the input, no copy), list -> array, tuple -> frozen array (see isTuple), dict and
//   OrderedDict -> PyDict (a Map; Python 2 byte-string keys become latin-1 text, as
//   Python 3's `encoding='latin1'` does), set/frozenset -> PySet, numpy arrays -> NpArray,
//   numpy dtypes -> NpDtype, numpy scalars -> number/bigint/boolean.

import { TlError } from '../util/errors.js';

// ---------------------------------------------------------------------------------------
// Value types

/** A byte string: Python 3 `bytes`/`bytearray`, or a Python 2 `str` (`py2` true). */
export class PyBytes {
  /**
   * @param data the bytes (usually a view into the pickle buffer)
   * @param py2 true for Python 2 `str` (STRING/BINSTRING/SHORT_BINSTRING)
   * @param room how many bytes just before `data` belong to this string's own opcode header
   *   and may be overwritten when the pickle buffer is ours (see `alignTo`)
   * @param owned whether `data` lies in a buffer the VM may modify
   */
  constructor(
    public data: Uint8Array,
    readonly py2: boolean,
    private room = 0,
    private owned = false,
  ) {}

  get length(): number {
    return this.data.length;
  }

  /** The bytes as text, one character per byte (latin-1), as Python 3 reads Python 2 str. */
  text(): string {
    return latin1Decode(this.data);
  }

  /**
   * Make `data.byteOffset` a multiple of `alignment` (2, 4 or 8) without copying the whole
   * string, by moving it back into its own opcode header inside the pickle buffer. Every
   * holder of this PyBytes sees the moved view. Returns false when that is not possible
   * (buffer not ours, header too short); the caller then copies.
   */
  alignTo(alignment: number): boolean {
    const shift = this.data.byteOffset % alignment;
    if (shift === 0) return true;
    if (!this.owned || shift > this.room) return false;
    const d = this.data;
    const whole = new Uint8Array(d.buffer, d.byteOffset - shift, d.length + shift);
    whole.copyWithin(0, shift);
    this.data = new Uint8Array(d.buffer, d.byteOffset - shift, d.length);
    this.room -= shift;
    return true;
  }
}

/**
 * A large Python str (BINUNICODE over `PICKLE_LIMITS.largeText` bytes), kept as its UTF-8
 * bytes: Python 3 numpy pickles carry array data as `_codecs.encode(str, 'latin1')`, and
 * decoding hundreds of MB into a JS string first would double the memory.
 */
export class PyLargeText {
  /** Set once `_codecs.encode(this, 'latin1')` has run (the UTF-8 bytes are then gone). */
  latin1?: PyBytes;
  constructor(
    readonly utf8: Uint8Array,
    readonly room: number,
    readonly owned: boolean,
  ) {}

  text(): string {
    if (this.latin1) return this.latin1.text();
    return utf8Decoder.decode(this.utf8);
  }
}

/** A Python dict or collections.OrderedDict, in insertion order. */
export class PyDict extends Map<unknown, unknown> {
  /** Instance attributes set by BUILD (torch's `state_dict._metadata`). */
  attrs?: Map<unknown, unknown>;
  constructor(readonly ordered = false) {
    super();
  }
}

export class PySet extends Set<unknown> {
  constructor(readonly frozen = false) {
    super();
  }
}

/** A numpy dtype (simple or structured). */
class NpDtype {
  /** '<', '>' or '|' (not applicable). '=' (native) is stored as '<'. */
  byteorder: '<' | '>' | '|' = '|';
  structured = false;
  /** e.g. ('f', 4) for float32, ('b', 1) for bool, ('S', 10) for bytes10. */
  constructor(
    readonly kind: string,
    readonly itemsize: number,
  ) {
    if (itemsize > 1 && 'fiucmM'.includes(kind)) this.byteorder = '<';
  }
  /** numpy's dtype.str, e.g. '<f4'. */
  get str(): string {
    return `${this.byteorder}${this.kind}${this.itemsize}`;
  }
  /** numpy's dtype.name, e.g. 'float32' (or the dtype string for uncommon kinds). */
  get name(): string {
    const bits = this.itemsize * 8;
    switch (this.kind) {
      case 'f':
        return `float${bits}`;
      case 'i':
        return `int${bits}`;
      case 'u':
        return `uint${bits}`;
      case 'b':
        return 'bool';
      case 'c':
        return `complex${bits}`;
      default:
        return this.str;
    }
  }
}

/** A numpy ndarray: shape, dtype and its raw bytes (a view into the pickle, not a copy). */
export class NpArray {
  shape: number[] = [];
  dtype: NpDtype | null = null;
  fortran = false;
  raw: PyBytes | null = null;
  /** The class name it was reconstructed as (numpy.ndarray, or a subclass name). */
  constructor(readonly subtype: string) {}
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** An allowed global: a class or function the unpickler may call, with inert semantics. */
export interface PyGlobal {
  readonly module: string;
  readonly name: string;
  /** Called by REDUCE (and by INST/OBJ/NEWOBJ for classes without `newobj`). */
  readonly call?: (args: readonly unknown[], ctx: CallContext) => unknown;
  /** Called by NEWOBJ / NEWOBJ_EX. */
  readonly newobj?: (args: readonly unknown[], ctx: CallContext) => unknown;
  /** True for classes (may be passed as arguments, e.g. numpy.ndarray, torch.FloatStorage). */
  readonly isClass?: boolean;
  /** Free-form data for the caller (e.g. a torch storage class's dtype). */
  readonly tag?: string;
}

/** An object built through copyreg._reconstructor / NEWOBJ of an allowed plain class. */
class PyObject {
  attrs = new PyDict();
  constructor(readonly cls: PyGlobal) {}
}

export interface CallContext {
  /** Throw a TlError naming the file and the position in the pickle. */
  fail(message: string): never;
  /** The owned-buffer flag (whether in-place conversions are allowed). */
  readonly inPlace: boolean;
}

export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

export function isPyGlobal(v: unknown): v is PyGlobal {
  return typeof v === 'object' && v !== null && globalsSet.has(v as PyGlobal);
}

/** Text of a str, a large str or a Python 2 byte string; undefined for anything else. */
export function pyText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof PyBytes && v.py2) return v.text();
  if (v instanceof PyLargeText) return v.text();
  return undefined;
}

/** A number from a Python int/float/bool value; undefined for anything else. */
export function pyNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Limits

export const PICKLE_LIMITS = {
  /** Nesting depth of containers and of MARKs. Python's own pickler stops near 1000. */
  maxDepth: 1000,
  /** Memo entries. */
  maxMemo: 1_000_000,
  /** Stack entries. */
  maxStack: 10_000_000,
  /** Characters of a protocol-0 numeric line (INT, LONG, FLOAT, GET, PUT). */
  maxNumberLine: 4096,
  /** Bytes of a LONG1/LONG4 integer. */
  maxLongBytes: 4096,
  /** BINUNICODE strings longer than this stay UTF-8 bytes (PyLargeText). */
  largeText: 1 << 20,
  /** Longest JS string we decode (V8's limit is about 2^29). */
  maxJsString: (1 << 29) - 64,
};

// ---------------------------------------------------------------------------------------
// Helpers

const utf8Decoder = new TextDecoder('utf-8');

function latin1Decode(b: Uint8Array): string {
  if (b.length > PICKLE_LIMITS.maxJsString) throw new TlError(`byte string of ${b.length} bytes is too long to decode as text`);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

function latin1Encode(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return null;
    out[i] = c;
  }
  return out;
}

/**
 * Decode UTF-8 whose code points are all below 256 into latin-1 bytes, writing into `dst`
 * (which may overlap `src` when dst.byteOffset <= src.byteOffset: the write position never
 * passes the read position). Returns the number of bytes written, or -1 for a code point
 * above 255 or malformed UTF-8.
 */
function utf8ToLatin1(src: Uint8Array, dst: Uint8Array): number {
  let w = 0;
  const n = src.length;
  for (let r = 0; r < n; ) {
    const b = src[r]!;
    if (b < 0x80) {
      dst[w++] = b;
      r++;
    } else if ((b === 0xc2 || b === 0xc3) && r + 1 < n && (src[r + 1]! & 0xc0) === 0x80) {
      dst[w++] = ((b & 0x03) << 6) | (src[r + 1]! & 0x3f);
      r += 2;
    } else {
      return -1;
    }
  }
  return w;
}

function isSafeInt(b: bigint): boolean {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER);
}

function intValue(b: bigint): number | bigint {
  return isSafeInt(b) ? Number(b) : b;
}

/** Two's-complement little-endian integer of n bytes. */
function decodeLong(bytes: Uint8Array): number | bigint {
  const n = bytes.length;
  if (n === 0) return 0;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  return intValue(v);
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

/** Python 2 `string-escape` decoding of the body of a protocol-0 STRING. */
function escapeDecode(body: Uint8Array): Uint8Array | null {
  if (!body.includes(0x5c)) return body;
  const out = new Uint8Array(body.length);
  let w = 0;
  for (let i = 0; i < body.length; ) {
    const c = body[i++]!;
    if (c !== 0x5c) {
      out[w++] = c;
      continue;
    }
    if (i >= body.length) return null; // trailing backslash
    const e = body[i++]!;
    switch (e) {
      case 0x0a: // backslash-newline: line continuation
        break;
      case 0x5c:
      case 0x27:
      case 0x22:
        out[w++] = e;
        break;
      case 0x61: out[w++] = 0x07; break; // \a
      case 0x62: out[w++] = 0x08; break; // \b
      case 0x66: out[w++] = 0x0c; break; // \f
      case 0x6e: out[w++] = 0x0a; break; // \n
      case 0x72: out[w++] = 0x0d; break; // \r
      case 0x74: out[w++] = 0x09; break; // \t
      case 0x76: out[w++] = 0x0b; break; // \v
      case 0x78: { // \xhh
        const h = String.fromCharCode(body[i] ?? 0, body[i + 1] ?? 0);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
        out[w++] = parseInt(h, 16);
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2 && i < body.length && body[i]! >= 0x30 && body[i]! <= 0x37; k++) v = v * 8 + (body[i++]! - 0x30);
          out[w++] = v & 0xff;
        } else {
          out[w++] = 0x5c;
          out[w++] = e;
        }
    }
  }
  return out.subarray(0, w);
}

/** Python's `raw-unicode-escape` decoding (protocol-0 UNICODE). */
function rawUnicodeEscapeDecode(b: Uint8Array): string | null {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c !== 0x5c) {
      chunk += String.fromCharCode(c);
      i++;
      if (chunk.length > 8192) {
        parts.push(chunk);
        chunk = '';
      }
      continue;
    }
    // count backslashes
    let j = i;
    while (j < b.length && b[j] === 0x5c) j++;
    const count = j - i;
    const next = b[j];
    if (count % 2 === 1 && (next === 0x75 || next === 0x55)) {
      chunk += '\\'.repeat(count - 1);
      const digits = next === 0x75 ? 4 : 8;
      let hex = '';
      for (let k = 0; k < digits; k++) hex += String.fromCharCode(b[j + 1 + k] ?? 0);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) return null;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return null;
      chunk += String.fromCodePoint(cp);
      i = j + 1 + digits;
    } else {
      chunk += '\\'.repeat(count);
      i = j;
    }
  }
  parts.push(chunk);
  return parts.join('');
}

// ---------------------------------------------------------------------------------------
// Allowed globals

const globalsSet = new WeakSet<PyGlobal>();

/** Create an allowed global (for callers that add their own, e.g. torch). */
export function defineGlobal(g: PyGlobal): PyGlobal {
  const frozen = Object.freeze({ ...g });
  globalsSet.add(frozen);
  return frozen;
}

function argCount(args: readonly unknown[], min: number, max: number, ctx: CallContext, what: string): void {
  if (args.length < min || args.length > max) {
    ctx.fail(`${what} called with ${args.length} arguments, expected ${min === max ? min : `${min} to ${max}`}`);
  }
}

const ndarrayClass = defineGlobal({ module: 'numpy', name: 'ndarray', isClass: true });
const objectClass = defineGlobal({ module: 'builtins', name: 'object', isClass: true });

function parseDtypeSpec(spec: string, ctx: CallContext): NpDtype {
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

function numpyScalar(args: readonly unknown[], ctx: CallContext): unknown {
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

function codecsEncode(v: unknown, ctx: CallContext): PyBytes {
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

function makeDefaultGlobals(): Map<string, PyGlobal> {
  const m = new Map<string, PyGlobal>();
  const add = (mods: string[], name: string, g: Omit<PyGlobal, 'module' | 'name'>): void => {
    for (const mod of mods) m.set(`${mod}.${name}`, defineGlobal({ module: mod, name, ...g }));
  };
  const multiarray = ['numpy.core.multiarray', 'numpy._core.multiarray'];
  add(multiarray, '_reconstruct', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 3, 3, ctx, 'numpy _reconstruct');
      const sub = args[0];
      if (!isPyGlobal(sub) || !sub.isClass || !(sub.name === 'ndarray' || sub.tag === 'ndarray')) {
        ctx.fail(`numpy _reconstruct of ${describe(sub)}, only numpy.ndarray is supported`);
      }
      return new NpArray(`${sub.module}.${sub.name}`);
    },
  });
  add(multiarray, 'scalar', { call: numpyScalar });
  // Protocol 5: numpy pickles arrays as _frombuffer(PickleBuffer(a), dtype, shape, order).
  add(['numpy.core.numeric', 'numpy._core.numeric'], '_frombuffer', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 4, 4, ctx, 'numpy _frombuffer');
      const [buffer, dtype, shape, order] = args;
      const o = pyText(order);
      if (o !== 'C' && o !== 'F') ctx.fail(`numpy _frombuffer order ${describe(order)}`);
      if (!(buffer instanceof PyBytes)) ctx.fail(`numpy _frombuffer of ${describe(buffer)}`);
      const a = new NpArray('numpy.ndarray');
      buildNpArray(a, tuple([1, shape, dtype, o === 'F', buffer]), ctx);
      return a;
    },
  });
  m.set('numpy.ndarray', ndarrayClass);
  add(['numpy'], 'dtype', {
    isClass: true,
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 1, 3, ctx, 'numpy.dtype');
      const spec = pyText(args[0]);
      if (spec === undefined) ctx.fail(`numpy.dtype of ${describe(args[0])}`);
      return parseDtypeSpec(spec, ctx);
    },
  });
  add(['_codecs'], 'encode', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 1, 3, ctx, '_codecs.encode');
      const enc = args.length > 1 ? pyText(args[1])?.toLowerCase().replace(/[-_]/g, '') : 'utf8';
      if (enc !== 'latin1' && enc !== 'iso88591') ctx.fail(`_codecs.encode with encoding '${String(enc)}', only 'latin1' is supported`);
      return codecsEncode(args[0], ctx);
    },
  });
  add(['collections'], 'OrderedDict', {
    isClass: true,
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 0, 1, ctx, 'collections.OrderedDict');
      const d = new PyDict(true);
      if (args.length === 1) {
        const items = args[0];
        if (!Array.isArray(items)) ctx.fail('collections.OrderedDict of a non-list');
        for (const it of items) {
          if (!Array.isArray(it) || it.length !== 2) ctx.fail('collections.OrderedDict item is not a pair');
          d.set(dictKey(it[0]), it[1]);
        }
      }
      return d;
    },
  });
  const builtins = ['builtins', '__builtin__'];
  const makeSet = (frozen: boolean) => (args: readonly unknown[], ctx: CallContext): PySet => {
    argCount(args, 0, 1, ctx, frozen ? 'frozenset' : 'set');
    const s = new PySet(frozen);
    if (args.length === 1) {
      const items = args[0];
      if (!Array.isArray(items)) ctx.fail(`${frozen ? 'frozenset' : 'set'} of ${describe(items)}`);
      for (const it of items) s.add(dictKey(it));
    }
    return s;
  };
  add(builtins, 'set', { isClass: true, call: makeSet(false) });
  add(builtins, 'frozenset', { isClass: true, call: makeSet(true) });
  const makeBytes = (args: readonly unknown[], ctx: CallContext): PyBytes => {
    argCount(args, 0, 2, ctx, 'bytes');
    if (args.length === 0) return new PyBytes(new Uint8Array(0), false);
    const a = args[0];
    if (args.length === 2) {
      const enc = pyText(args[1])?.toLowerCase().replace(/[-_]/g, '');
      if (enc !== 'latin1' && enc !== 'iso88591') ctx.fail(`bytes(str, '${String(enc)}'), only latin-1 is supported`);
      return codecsEncode(a, ctx);
    }
    if (a instanceof PyBytes) return new PyBytes(a.data.slice(), false); // a copy, as bytearray() makes
    if (Array.isArray(a)) {
      const out = new Uint8Array(a.length);
      a.forEach((x, i) => {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255) ctx.fail('bytes() of a list with a non-byte item');
        out[i] = x;
      });
      return new PyBytes(out, false);
    }
    ctx.fail(`bytes() of ${describe(a)}`);
  };
  add(builtins, 'bytes', { isClass: true, call: makeBytes });
  add(builtins, 'bytearray', { isClass: true, call: makeBytes });
  m.set('builtins.object', objectClass);
  m.set('__builtin__.object', objectClass);
  add(['copyreg', 'copy_reg'], '_reconstructor', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 3, 3, ctx, 'copyreg._reconstructor');
      const [cls, base, state] = args;
      if (!isPyGlobal(cls) || !cls.isClass) ctx.fail(`copyreg._reconstructor of ${describe(cls)}`);
      if (base !== objectClass || state !== null) {
        ctx.fail(`copyreg._reconstructor of ${cls.module}.${cls.name} on base ${describe(base)}: only plain objects are supported`);
      }
      if (cls.newobj) return cls.newobj([], ctx);
      return new PyObject(cls);
    },
  });
  return m;
}

const DEFAULT_GLOBALS = makeDefaultGlobals();

// ---------------------------------------------------------------------------------------
// Describing values in messages

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `str '${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'number' || typeof v === 'bigint') return `number ${String(v)}`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (isTuple(v)) return `tuple of ${v.length}`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v instanceof PyBytes) return `${v.py2 ? 'Python 2 str' : 'bytes'} of ${v.length} bytes`;
  if (v instanceof PyLargeText) return `str of ${v.utf8.length} UTF-8 bytes`;
  if (v instanceof PyDict) return `dict of ${v.size}`;
  if (v instanceof PySet) return `set of ${v.size}`;
  if (v instanceof NpArray) return `numpy array ${v.dtype?.str ?? '?'} (${v.shape.join(', ')})`;
  if (v instanceof NpDtype) return `numpy dtype ${v.str}`;
  if (v instanceof PyObject) return `${v.cls.module}.${v.cls.name} object`;
  if (isPyGlobal(v)) return `${v.module}.${v.name}`;
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

/** Dict keys: Python 2 byte strings become text (as Python 3 with encoding='latin1'). */
function dictKey(k: unknown): unknown {
  if (k instanceof PyBytes && k.py2) return k.text();
  if (k instanceof PyLargeText) return k.text();
  return k;
}

// ---------------------------------------------------------------------------------------
// numpy arrays

/** Apply numpy's ndarray.__setstate__ / dtype.__setstate__ checks to a BUILD. */
function buildNpArray(a: NpArray, state: unknown, ctx: CallContext): void {
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

function buildNpDtype(d: NpDtype, state: unknown, ctx: CallContext): void {
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

// ---------------------------------------------------------------------------------------
// The machine

export interface PickleOptions {
  /** The file name, for messages. */
  file: string;
  /** Extra allowed globals, by 'module.name' (e.g. torch's rebuild functions). */
  globals?: ReadonlyMap<string, PyGlobal>;
  /** Resolves PERSID / BINPERSID (torch storages). Without it, persistent ids are an error. */
  persistentLoad?: (pid: unknown, ctx: CallContext) => unknown;
  /**
   * Allow in-place edits of `buf` (moving large strings to aligned offsets, transcoding
   * large latin-1 strs into bytes). Pass true only for a buffer nobody else reads.
   */
  inPlace?: boolean;
  /** A hint appended to the message for a refused global. */
  refusedGlobalHint?: string;
}

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

class Machine {
  private pos = 0;
  private opStart = 0;
  private op = 0;
  private readonly dv: DataView;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly depth = new WeakMap<object, number>();
  private readonly ctx: CallContext;
  private readonly inPlace: boolean;

  constructor(
    private readonly buf: Uint8Array,
    private readonly opts: PickleOptions,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.inPlace = opts.inPlace === true;
    this.ctx = { fail: (m: string) => this.fail(m), inPlace: this.inPlace };
  }

  fail(message: string): never {
    const name = OPNAMES[this.op] ?? `0x${this.op.toString(16).padStart(2, '0')}`;
    throw new TlError(`${this.opts.file}: cannot read pickle: ${message} (opcode ${name} at byte ${this.opStart})`);
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) {
      this.fail(`truncated: needs ${n} more bytes but only ${this.buf.length - this.pos} remain; the file is incomplete or damaged`);
    }
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  private u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.buf.length)) this.fail(`claims ${v} bytes but the file holds only ${this.buf.length}`);
    return Number(v);
  }
  private bytes(n: number): Uint8Array {
    if (n < 0) this.fail(`negative length ${n}`);
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  private line(maxLen = Infinity): Uint8Array {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated: a text line has no end');
    if (end - this.pos > maxLen) this.fail(`a ${end - this.pos}-character text line is too long`);
    const b = this.buf.subarray(this.pos, end);
    this.pos = end + 1;
    return b;
  }
  private asciiLine(maxLen = PICKLE_LIMITS.maxNumberLine): string {
    return latin1Decode(this.line(maxLen));
  }

  private push(v: unknown): void {
    if (this.stack.length >= PICKLE_LIMITS.maxStack) this.fail(`stack exceeds ${PICKLE_LIMITS.maxStack} entries`);
    this.stack.push(v);
  }
  private base(): number {
    return this.marks.length ? this.marks[this.marks.length - 1]! : 0;
  }
  private pop(): unknown {
    if (this.stack.length <= this.base()) this.fail('stack underflow; the pickle is malformed');
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length <= this.base()) this.fail('stack underflow; the pickle is malformed');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): unknown[] {
    if (!this.marks.length) this.fail('no MARK on the stack; the pickle is malformed');
    const m = this.marks.pop()!;
    return this.stack.splice(m);
  }

  private depthOf(v: unknown): number {
    return typeof v === 'object' && v !== null ? (this.depth.get(v) ?? 0) : 0;
  }
  /** Record that `parent` contains `children`, and enforce the nesting limit. */
  private nest(parent: object, children: readonly unknown[]): void {
    let d = this.depth.get(parent) ?? 0;
    for (const c of children) {
      const cd = this.depthOf(c) + 1;
      if (cd > d) d = cd;
    }
    if (d > PICKLE_LIMITS.maxDepth) this.fail(`nesting deeper than ${PICKLE_LIMITS.maxDepth} levels`);
    if (d > 0) this.depth.set(parent, d);
  }

  private memoPut(idx: number, v: unknown): void {
    if (idx < 0 || !Number.isSafeInteger(idx)) this.fail(`invalid memo index ${idx}`);
    if (!this.memo.has(idx) && this.memo.size >= PICKLE_LIMITS.maxMemo) this.fail(`memo exceeds ${PICKLE_LIMITS.maxMemo} entries`);
    this.memo.set(idx, v);
  }
  private memoGet(idx: number): unknown {
    if (!this.memo.has(idx)) this.fail(`memo entry ${idx} was never stored`);
    return this.memo.get(idx);
  }

  private resolveGlobal(module: string, name: string): PyGlobal {
    const key = `${module}.${name}`;
    const g = this.opts.globals?.get(key) ?? DEFAULT_GLOBALS.get(key);
    if (!g) {
      const hint = this.opts.refusedGlobalHint ? ` ${this.opts.refusedGlobalHint}` : '';
      throw new TlError(
        `${this.opts.file}: refusing to load global '${key}' (byte ${this.opStart}): tl-scratch unpickles only numpy arrays, ` +
          `plain containers and tensors and never runs code from a file; this file is either not a weight file or may be malicious.${hint}`,
      );
    }
    return g;
  }

  private call(fn: unknown, args: unknown, how: 'call' | 'newobj'): unknown {
    if (!isTuple(args) && !Array.isArray(args)) this.fail(`arguments are ${describe(args)}, expected a tuple`);
    if (!isPyGlobal(fn)) this.fail(`cannot call ${describe(fn)}`);
    const f = how === 'newobj' ? (fn.newobj ?? fn.call) : fn.call;
    if (!f) this.fail(`${fn.module}.${fn.name} cannot be called`);
    const r = f(args, this.ctx);
    if (typeof r === 'object' && r !== null) this.nest(r, args);
    return r;
  }

  private build(inst: unknown, state: unknown): void {
    if (inst instanceof NpArray) return buildNpArray(inst, state, this.ctx);
    if (inst instanceof NpDtype) return buildNpDtype(inst, state, this.ctx);
    let dictState = state;
    let slotState: unknown = null;
    if (isTuple(state) && state.length === 2) [dictState, slotState] = state;
    const target = inst instanceof PyObject ? inst.attrs : inst instanceof PyDict ? (inst.attrs ??= new PyDict()) : null;
    if (!target) this.fail(`cannot set the state of ${describe(inst)}`);
    for (const s of [dictState, slotState]) {
      if (s === null) continue;
      if (!(s instanceof PyDict)) this.fail(`object state is ${describe(s)}, expected a dict`);
      for (const [k, v] of s) target.set(k, v);
    }
    this.nest(inst as object, [state]);
  }

  private decodeUtf8(b: Uint8Array, headerLen: number): string | PyLargeText {
    if (b.length > PICKLE_LIMITS.largeText) return new PyLargeText(b, headerLen, this.inPlace);
    return utf8Decoder.decode(b);
  }

  run(): unknown {
    const buf = this.buf;
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= buf.length) this.fail('truncated: the pickle ends without a STOP opcode');
      const op = (this.op = buf[this.pos++]!);
      switch (op) {
        case 0x80: { // PROTO
          const v = this.u8();
          if (v > 5) this.fail(`pickle protocol ${v} is newer than 5`);
          break;
        }
        case 0x95: // FRAME: we read the whole buffer; only check the length
          this.u64();
          break;
        case 0x2e: { // STOP
          const v = this.pop();
          return v;
        }
        case 0x28: // MARK
          if (this.marks.length >= PICKLE_LIMITS.maxDepth) this.fail(`more than ${PICKLE_LIMITS.maxDepth} nested MARKs`);
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          if (this.stack.length > this.base()) this.stack.pop();
          else this.popMark(); // Python pops a MARK when the stack (since it) is empty
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;

        // --- numbers
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(this.i32()); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x8a: { // LONG1
          const n = this.u8();
          this.push(decodeLong(this.bytes(n)));
          break;
        }
        case 0x8b: { // LONG4
          const n = this.i32();
          if (n < 0) this.fail('negative LONG4 length');
          if (n > PICKLE_LIMITS.maxLongBytes) this.fail(`a ${n}-byte integer is absurdly large`);
          this.push(decodeLong(this.bytes(n)));
          break;
        }
        case 0x49: { // INT (protocol 0): also True/False as 01/00
          const s = this.asciiLine().trim();
          if (s === '01') this.push(true);
          else if (s === '00') this.push(false);
          else this.push(this.parseIntText(s));
          break;
        }
        case 0x4c: // LONG (protocol 0)
          this.push(this.parseIntText(this.asciiLine().trim()));
          break;
        case 0x46: { // FLOAT
          const s = this.asciiLine().trim();
          this.push(this.parseFloatText(s));
          break;
        }
        case 0x47: // BINFLOAT: big-endian double
          this.need(8);
          this.push(this.dv.getFloat64(this.pos, false));
          this.pos += 8;
          break;

        // --- strings
        case 0x53: { // STRING (protocol 0): a quoted Python 2 repr
          const line = this.line();
          let body = line;
          // Python strips trailing whitespace? No: it requires matching quotes.
          if (body.length >= 2 && (body[0] === 0x27 || body[0] === 0x22) && body[body.length - 1] === body[0]) {
            body = body.subarray(1, body.length - 1);
          } else this.fail('STRING argument is not quoted');
          const dec = escapeDecode(body);
          if (!dec) this.fail('invalid escape in STRING');
          this.push(new PyBytes(dec, true));
          break;
        }
        case 0x54: { // BINSTRING
          const n = this.i32();
          if (n < 0) this.fail(`negative string length ${n}`);
          this.push(new PyBytes(this.bytes(n), true, 5, this.inPlace));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.push(new PyBytes(this.bytes(this.u8()), true));
          break;
        case 0x42: // BINBYTES
          this.push(new PyBytes(this.bytes(this.u32()), false, 5, this.inPlace));
          break;
        case 0x43: // SHORT_BINBYTES
          this.push(new PyBytes(this.bytes(this.u8()), false));
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.push(new PyBytes(this.bytes(this.u64()), false, 9, this.inPlace));
          break;
        case 0x56: { // UNICODE (protocol 0): raw-unicode-escape
          const s = rawUnicodeEscapeDecode(this.line());
          if (s === null) this.fail('invalid \\u escape in UNICODE');
          this.push(s);
          break;
        }
        case 0x58: // BINUNICODE
          this.push(this.decodeUtf8(this.bytes(this.u32()), 5));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(utf8Decoder.decode(this.bytes(this.u8())));
          break;
        case 0x8d: // BINUNICODE8
          this.push(this.decodeUtf8(this.bytes(this.u64()), 9));
          break;

        // --- containers
        case 0x7d: this.push(new PyDict()); break; // EMPTY_DICT
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x29: this.push(tuple([])); break; // EMPTY_TUPLE
        case 0x8f: this.push(new PySet()); break; // EMPTY_SET
        case 0x64: { // DICT
          const items = this.popMark();
          if (items.length % 2) this.fail('DICT with an odd number of items');
          const d = new PyDict();
          for (let i = 0; i < items.length; i += 2) d.set(dictKey(items[i]), items[i + 1]);
          this.nest(d, items);
          this.push(d);
          break;
        }
        case 0x6c: { // LIST
          const items = this.popMark();
          this.nest(items, items);
          this.push(items);
          break;
        }
        case 0x74: { // TUPLE
          const items = this.popMark();
          this.nest(items, items);
          this.push(tuple(items));
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: { // TUPLE1..3
          const n = op - 0x84;
          const items: unknown[] = [];
          for (let i = 0; i < n; i++) items.unshift(this.pop());
          this.nest(items, items);
          this.push(tuple(items));
          break;
        }
        case 0x91: { // FROZENSET
          const items = this.popMark();
          const s = new PySet(true);
          for (const it of items) s.add(dictKey(it));
          this.nest(s, items);
          this.push(s);
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop();
          const l = this.top();
          if (!Array.isArray(l) || Object.isFrozen(l)) this.fail(`APPEND to ${describe(l)}, expected a list`);
          l.push(v);
          this.nest(l, [v]);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          const l = this.top();
          if (!Array.isArray(l) || Object.isFrozen(l)) this.fail(`APPENDS to ${describe(l)}, expected a list`);
          for (const it of items) l.push(it);
          this.nest(l, items);
          break;
        }
        case 0x73: { // SETITEM
          const v = this.pop();
          const k = this.pop();
          const d = this.top();
          if (!(d instanceof PyDict)) this.fail(`SETITEM on ${describe(d)}, expected a dict`);
          d.set(dictKey(k), v);
          this.nest(d, [v]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          const d = this.top();
          if (!(d instanceof PyDict)) this.fail(`SETITEMS on ${describe(d)}, expected a dict`);
          if (items.length % 2) this.fail('SETITEMS with an odd number of items');
          for (let i = 0; i < items.length; i += 2) d.set(dictKey(items[i]), items[i + 1]);
          this.nest(d, items);
          break;
        }
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          const s = this.top();
          if (!(s instanceof PySet) || s.frozen) this.fail(`ADDITEMS on ${describe(s)}, expected a set`);
          for (const it of items) s.add(dictKey(it));
          this.nest(s, items);
          break;
        }

        // --- memo
        case 0x70: // PUT
          this.memoPut(this.parseIndex(this.asciiLine()), this.top());
          break;
        case 0x71: // BINPUT
          this.memoPut(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memoPut(this.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memoPut(this.memo.size, this.top());
          break;
        case 0x67: // GET
          this.push(this.memoGet(this.parseIndex(this.asciiLine())));
          break;
        case 0x68: // BINGET
          this.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.push(this.memoGet(this.u32()));
          break;

        // --- globals and calls
        case 0x63: { // GLOBAL
          const module = this.asciiLine(1024);
          const name = this.asciiLine(1024);
          this.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two str');
          this.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.push(this.call(fn, args, 'call'));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, args, 'newobj'));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof PyDict) || kwargs.size > 0) this.fail('NEWOBJ_EX with keyword arguments is not supported');
          this.push(this.call(cls, args, 'newobj'));
          break;
        }
        case 0x69: { // INST
          const module = this.asciiLine(1024);
          const name = this.asciiLine(1024);
          const cls = this.resolveGlobal(module, name);
          const args = this.popMark();
          this.push(this.call(cls, tuple(args), 'call'));
          break;
        }
        case 0x6f: { // OBJ
          const items = this.popMark();
          if (!items.length) this.fail('OBJ without a class');
          const cls = items.shift();
          this.push(this.call(cls, tuple(items), 'call'));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop();
          this.build(this.top(), state);
          break;
        }
        case 0x50: { // PERSID
          const pid = this.asciiLine(1 << 16);
          this.push(this.persistent(pid));
          break;
        }
        case 0x51: // BINPERSID
          this.push(this.persistent(this.pop()));
          break;
        case 0x82:
        case 0x83:
        case 0x84: // EXT1/2/4
          this.fail('the pickle uses the copyreg extension registry, which tl-scratch does not support');
          break;
        case 0x97: // NEXT_BUFFER
          this.fail('the pickle uses out-of-band buffers (protocol 5), which a file cannot carry');
          break;
        case 0x98: // READONLY_BUFFER
          this.top();
          break;
        default:
          this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}; this is not a pickle or it is damaged`);
      }
    }
  }

  private persistent(pid: unknown): unknown {
    if (!this.opts.persistentLoad) this.fail('the pickle refers to external data (a persistent id) that this reader cannot resolve');
    return this.opts.persistentLoad(pid, this.ctx);
  }

  private parseIndex(s: string): number {
    if (!/^\d+$/.test(s.trim())) this.fail(`memo index '${s}' is not a number`);
    return Number(s.trim());
  }

  private parseIntText(s: string): number | bigint {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t)) this.fail(`'${s}' is not an integer`);
    return intValue(BigInt(t));
  }

  private parseFloatText(s: string): number {
    const low = s.toLowerCase();
    if (low === 'inf' || low === '+inf') return Infinity;
    if (low === '-inf') return -Infinity;
    if (low === 'nan' || low === '-nan' || low === '+nan') return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) this.fail(`'${s}' is not a float`);
    return Number(s);
  }
}

/**
 * Unpickle `buf`. Throws TlError (naming `opts.file`) for malformed input, refused globals,
 * and anything over the limits; never anything else.
 */
export function loadPickle(buf: Uint8Array, opts: PickleOptions): unknown {
  const m = new Machine(buf, opts);
  try {
    return m.run();
  } catch (e) {
    if (e instanceof TlError) throw e;
    // A bug or an engine limit (e.g. RangeError): still one clear message.
    m.fail(`unexpected failure: ${(e as Error).message}`);
  }
}
