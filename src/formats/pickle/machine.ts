// The pickle machine: a stack, a memo and MARKs, one case per opcode. Over 400 lines because
// the opcode switch in `run` reads best whole: each case is a few lines, and splitting the
// switch by opcode family would spread one instruction set over files and add a dispatch
// step to every opcode. Reading bytes is in reader.ts, the values in values.ts, numpy's
// state checks in numpy.ts and the allowed globals in globals.ts.

import { TlError } from '../../util/errors.js';
import { decodeLong, escapeDecode, rawUnicodeEscapeDecode, utf8Decoder } from './decode.js';
import { DEFAULT_GLOBALS } from './globals.js';
import { PICKLE_LIMITS } from './limits.js';
import { buildNpArray, buildNpDtype } from './numpy.js';
import { Reader } from './reader.js';
import {
  describe,
  dictKey,
  isPyGlobal,
  isTuple,
  NpArray,
  NpDtype,
  PyBytes,
  PyDict,
  PyLargeText,
  PyObject,
  PySet,
  tuple,
  type CallContext,
  type PyGlobal,
} from './values.js';

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

export class Machine extends Reader {
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly depth = new WeakMap<object, number>();
  private readonly ctx: CallContext;
  private readonly inPlace: boolean;

  constructor(
    buf: Uint8Array,
    private readonly opts: PickleOptions,
  ) {
    super(buf, opts.file);
    this.inPlace = opts.inPlace === true;
    this.ctx = { fail: (m: string) => this.fail(m), inPlace: this.inPlace };
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
}
