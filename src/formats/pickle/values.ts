// The values the pickle VM builds, and the small guards and descriptions that work on them.
//
//   None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
//   str -> string (large ones: PyLargeText), bytes and Python 2 str -> PyBytes (a view into
//   the input, no copy), list -> array, tuple -> frozen array (see isTuple), dict and
//   OrderedDict -> PyDict (a Map; Python 2 byte-string keys become latin-1 text, as
//   Python 3's `encoding='latin1'` does), set/frozenset -> PySet, numpy arrays -> NpArray,
//   numpy dtypes -> NpDtype, numpy scalars -> number/bigint/boolean.

import { latin1Decode, utf8Decoder } from './decode.js';

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
export class NpDtype {
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
export class PyObject {
  attrs = new PyDict();
  constructor(readonly cls: PyGlobal) {}
}

export interface CallContext {
  /** Throw a TlError naming the file and the position in the pickle. */
  fail(message: string): never;
  /** The owned-buffer flag (whether in-place conversions are allowed). */
  readonly inPlace: boolean;
}

export function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** The globals defineGlobal made: only these may be called. */
const globalsSet = new WeakSet<PyGlobal>();

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

/** Create an allowed global (for callers that add their own, e.g. torch). */
export function defineGlobal(g: PyGlobal): PyGlobal {
  const frozen = Object.freeze({ ...g });
  globalsSet.add(frozen);
  return frozen;
}

/** Fail unless an allowed global was called with `min` to `max` arguments. */
export function argCount(args: readonly unknown[], min: number, max: number, ctx: CallContext, what: string): void {
  if (args.length < min || args.length > max) {
    ctx.fail(`${what} called with ${args.length} arguments, expected ${min === max ? min : `${min} to ${max}`}`);
  }
}

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
export function dictKey(k: unknown): unknown {
  if (k instanceof PyBytes && k.py2) return k.text();
  if (k instanceof PyLargeText) return k.text();
  return k;
}
