// The pickle VM's cursor over the input: little-endian reads that fail with a message when
// the input is shorter than claimed, protocol 0 text lines and the numbers written in them,
// and `fail`, which names the file, the opcode and its byte offset in every message.

import { TlError } from '../../util/errors.js';
import { intValue, latin1Decode } from './decode.js';
import { PICKLE_LIMITS } from './limits.js';

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

export class Reader {
  protected pos = 0;
  protected opStart = 0;
  protected op = 0;
  protected readonly dv: DataView;

  constructor(
    protected readonly buf: Uint8Array,
    protected readonly file: string,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string): never {
    const name = OPNAMES[this.op] ?? `0x${this.op.toString(16).padStart(2, '0')}`;
    // the message may quote the file's own text: control characters are shown escaped, so it stays one line
    const shown = message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    throw new TlError(`${this.file}: cannot read pickle: ${shown} (opcode ${name} at byte ${this.opStart})`);
  }

  protected need(n: number): void {
    if (n > this.buf.length - this.pos) {
      this.fail(`truncated: needs ${n} more bytes but only ${this.buf.length - this.pos} remain; the file is incomplete or damaged`);
    }
  }

  protected u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  protected u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  protected i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  protected u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  protected u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.buf.length)) this.fail(`claims ${v} bytes but the file holds only ${this.buf.length}`);
    return Number(v);
  }
  protected bytes(n: number): Uint8Array {
    if (n < 0) this.fail(`negative length ${n}`);
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  protected line(maxLen = Infinity): Uint8Array {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated: a text line has no end');
    if (end - this.pos > maxLen) this.fail(`a ${end - this.pos}-character text line is too long`);
    const b = this.buf.subarray(this.pos, end);
    this.pos = end + 1;
    return b;
  }
  protected asciiLine(maxLen = PICKLE_LIMITS.maxNumberLine): string {
    return latin1Decode(this.line(maxLen));
  }

  protected parseIndex(s: string): number {
    if (!/^\d+$/.test(s.trim())) this.fail(`memo index '${s}' is not a number`);
    return Number(s.trim());
  }

  protected parseIntText(s: string): number | bigint {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t)) this.fail(`'${s}' is not an integer`);
    return intValue(BigInt(t));
  }

  protected parseFloatText(s: string): number {
    const low = s.toLowerCase();
    if (low === 'inf' || low === '+inf') return Infinity;
    if (low === '-inf') return -Infinity;
    if (low === 'nan' || low === '-nan' || low === '+nan') return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) this.fail(`'${s}' is not a float`);
    return Number(s);
  }
}
