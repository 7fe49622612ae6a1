// A reader for the subset of MATLAB level-5 MAT-files that IMDB-WIKI's wiki.mat and
// imdb.mat use (written by MATLAB -v7 or scipy.io.savemat): miMATRIX elements of numeric,
// logical, char, cell and struct class, optionally inside miCOMPRESSED (zlib) elements,
// either byte order. Layout from MathWorks' "MAT-File Format" document (level 5).
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { TlError } from '../util/errors.js';

export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

/** A numeric or logical array; `data` is column-major (MATLAB order), converted to float64. */
export interface MatNumeric {
  kind: 'numeric';
  /** MATLAB class: 'double', 'single', 'int8', ..., 'uint64', or 'logical'. */
  mclass: string;
  dims: number[];
  data: Float64Array;
  imag?: Float64Array;
}

/** A char array. `text` is the characters in column-major order; `rows()` splits a 2-D one. */
export interface MatChar {
  kind: 'char';
  dims: number[];
  text: string;
}

export interface MatCell {
  kind: 'cell';
  dims: number[];
  /** Column-major. */
  items: MatValue[];
}

export interface MatStruct {
  kind: 'struct';
  dims: number[];
  fields: string[];
  /** One record per element, column-major. */
  elements: Record<string, MatValue>[];
}

// data types (tags)
const miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6, miSINGLE = 7, miDOUBLE = 9;
const miINT64 = 12, miUINT64 = 13, miMATRIX = 14, miCOMPRESSED = 15, miUTF8 = 16, miUTF16 = 17, miUTF32 = 18;
// array classes
const mxCELL = 1, mxSTRUCT = 2, mxOBJECT = 3, mxCHAR = 4, mxSPARSE = 5;
const NUMERIC_CLASSES: Record<number, string> = {
  6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};
const BYTES: Record<number, number> = {
  [miINT8]: 1, [miUINT8]: 1, [miINT16]: 2, [miUINT16]: 2, [miINT32]: 4, [miUINT32]: 4, [miSINGLE]: 4, [miDOUBLE]: 8,
  [miINT64]: 8, [miUINT64]: 8, [miUTF8]: 1, [miUTF16]: 2, [miUTF32]: 4,
};

class Reader {
  constructor(
    readonly view: DataView,
    readonly le: boolean,
    readonly where: string,
  ) {}

  fail(msg: string): never {
    throw new TlError(`${this.where}: ${msg}; the MAT-file may be truncated or damaged`);
  }

  /** Read the tag at `pos`: type, size, data offset, offset of the next element. */
  tag(pos: number, padded = true): { type: number; size: number; data: number; next: number } {
    if (pos + 8 > this.view.byteLength) {
      if (pos + 4 <= this.view.byteLength) {
        const w = this.view.getUint32(pos, this.le);
        if (w >>> 16 !== 0) return { type: w & 0xffff, size: w >>> 16, data: pos + 4, next: pos + 8 };
      }
      this.fail(`element tag at byte ${pos} runs past the end`);
    }
    const w = this.view.getUint32(pos, this.le);
    if (w >>> 16 !== 0) {
      // small data element: size and type packed in 4 bytes, data in the next 4
      return { type: w & 0xffff, size: w >>> 16, data: pos + 4, next: pos + 8 };
    }
    const size = this.view.getUint32(pos + 4, this.le);
    const data = pos + 8;
    if (data + size > this.view.byteLength) this.fail(`element at byte ${pos} (${size} bytes) runs past the end`);
    const next = data + (padded ? Math.ceil(size / 8) * 8 : size);
    return { type: w, size, data, next };
  }

  numbers(type: number, off: number, size: number): Float64Array {
    const b = BYTES[type];
    if (b === undefined || type === miUTF8 || type === miUTF16 || type === miUTF32) this.fail(`unexpected numeric data type ${type}`);
    const n = Math.floor(size / b);
    const out = new Float64Array(n);
    const v = this.view;
    const le = this.le;
    for (let i = 0; i < n; i++) {
      const p = off + i * b;
      switch (type) {
        case miINT8: out[i] = v.getInt8(p); break;
        case miUINT8: out[i] = v.getUint8(p); break;
        case miINT16: out[i] = v.getInt16(p, le); break;
        case miUINT16: out[i] = v.getUint16(p, le); break;
        case miINT32: out[i] = v.getInt32(p, le); break;
        case miUINT32: out[i] = v.getUint32(p, le); break;
        case miSINGLE: out[i] = v.getFloat32(p, le); break;
        case miDOUBLE: out[i] = v.getFloat64(p, le); break;
        case miINT64: out[i] = Number(v.getBigInt64(p, le)); break;
        case miUINT64: out[i] = Number(v.getBigUint64(p, le)); break;
      }
    }
    return out;
  }

  text(type: number, off: number, size: number): string {
    const bytes = new Uint8Array(this.view.buffer, this.view.byteOffset + off, size);
    if (type === miUTF8 || type === miUINT8 || type === miINT8) return new TextDecoder('utf-8').decode(bytes);
    const codes = this.numbers(type === miUTF16 ? miUINT16 : type === miUTF32 ? miUINT32 : type, off, size);
    let s = '';
    for (const c of codes) s += String.fromCodePoint(c);
    return s;
  }

  /** Parse an miMATRIX element whose data spans [off, off + size). Returns the name too. */
  matrix(off: number, size: number): { name: string; value: MatValue } {
    const end = off + size;
    if (size === 0) return { name: '', value: { kind: 'numeric', mclass: 'double', dims: [0, 0], data: new Float64Array(0) } };
    const flagsTag = this.tag(off);
    if (flagsTag.size < 8) this.fail('array flags too short');
    const flagsWord = this.view.getUint32(flagsTag.data, this.le);
    const mclass = flagsWord & 0xff;
    const complex = (flagsWord & 0x0800) !== 0;
    const logical = (flagsWord & 0x0200) !== 0;
    const dimsTag = this.tag(flagsTag.next);
    const dims = Array.from(this.numbers(dimsTag.type, dimsTag.data, dimsTag.size));
    const nameTag = this.tag(dimsTag.next);
    const name = this.text(miUINT8, nameTag.data, nameTag.size);
    let pos = nameTag.next;
    const count = dims.reduce((a, b) => a * b, 1);

    if (NUMERIC_CLASSES[mclass] !== undefined) {
      const re = this.tag(pos);
      const data = this.numbers(re.type, re.data, re.size);
      const value: MatNumeric = { kind: 'numeric', mclass: logical ? 'logical' : NUMERIC_CLASSES[mclass]!, dims, data };
      if (complex) {
        const im = this.tag(re.next);
        value.imag = this.numbers(im.type, im.data, im.size);
      }
      return { name, value };
    }
    if (mclass === mxCHAR) {
      if (pos >= end) return { name, value: { kind: 'char', dims, text: '' } };
      const t = this.tag(pos);
      return { name, value: { kind: 'char', dims, text: this.text(t.type, t.data, t.size) } };
    }
    if (mclass === mxCELL) {
      const items: MatValue[] = [];
      for (let i = 0; i < count; i++) {
        const t = this.tag(pos);
        if (t.type !== miMATRIX) this.fail(`cell element ${i} of '${name}' is not a matrix (type ${t.type})`);
        items.push(this.matrix(t.data, t.size).value);
        pos = t.next;
      }
      return { name, value: { kind: 'cell', dims, items } };
    }
    if (mclass === mxSTRUCT) {
      const lenTag = this.tag(pos);
      const fieldLen = this.numbers(lenTag.type, lenTag.data, lenTag.size)[0] ?? 0;
      const namesTag = this.tag(lenTag.next);
      const fields: string[] = [];
      if (fieldLen > 0) {
        for (let p = 0; p + fieldLen <= namesTag.size; p += fieldLen) {
          const raw = new Uint8Array(this.view.buffer, this.view.byteOffset + namesTag.data + p, fieldLen);
          const z = raw.indexOf(0);
          fields.push(new TextDecoder().decode(z >= 0 ? raw.subarray(0, z) : raw));
        }
      }
      pos = namesTag.next;
      const elements: Record<string, MatValue>[] = [];
      for (let i = 0; i < count; i++) {
        const rec: Record<string, MatValue> = {};
        for (const f of fields) {
          const t = this.tag(pos);
          if (t.type !== miMATRIX) this.fail(`field '${f}' of '${name}' is not a matrix (type ${t.type})`);
          rec[f] = this.matrix(t.data, t.size).value;
          pos = t.next;
        }
        elements.push(rec);
      }
      return { name, value: { kind: 'struct', dims, fields, elements } };
    }
    if (mclass === mxSPARSE) this.fail(`variable '${name}' is a sparse matrix, which this reader does not support`);
    if (mclass === mxOBJECT) this.fail(`variable '${name}' is a MATLAB object, which this reader does not support`);
    return this.fail(`variable '${name}' has unsupported array class ${mclass}`);
  }
}

/**
 * Read every variable of a level-5 MAT-file. `where` names the file in messages.
 * Throws a TlError for v4 or v7.3 (HDF5) files and for damaged ones.
 */
function parseMat(buf: Uint8Array, where = 'MAT-file'): Record<string, MatValue> {
  if (buf.length < 128) throw new TlError(`${where}: too short for a MAT-file (${buf.length} bytes)`);
  const head = Buffer.from(buf.buffer, buf.byteOffset, 116).toString('latin1');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const endian = String.fromCharCode(buf[126]!, buf[127]!);
  if (head.startsWith('MATLAB 7.3')) {
    throw new TlError(`${where}: a MATLAB v7.3 (HDF5-based) MAT-file, which is not supported; save it again with save(..., '-v7')`);
  }
  if (endian !== 'IM' && endian !== 'MI') {
    throw new TlError(`${where}: not a MATLAB level-5 MAT-file (no endian indicator in the header)`);
  }
  const le = endian === 'IM';
  const vars: Record<string, MatValue> = {};
  const top = new Reader(view, le, where);
  let pos = 128;
  while (pos + 8 <= buf.length) {
    const t = top.tag(pos, false);
    if (t.type === miCOMPRESSED) {
      let raw: Buffer;
      try {
        raw = inflateSync(buf.subarray(t.data, t.data + t.size));
      } catch (e) {
        throw new TlError(`${where}: cannot decompress the element at byte ${pos} (${(e as Error).message}); the MAT-file may be truncated or damaged`);
      }
      const inner = new Reader(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), le, where);
      const it = inner.tag(0);
      if (it.type === miMATRIX) {
        const { name, value } = inner.matrix(it.data, it.size);
        vars[name] = value;
      }
      pos = t.data + t.size;
    } else {
      if (t.type === miMATRIX) {
        const { name, value } = top.matrix(t.data, t.size);
        vars[name] = value;
      }
      pos = top.tag(pos).next;
    }
  }
  return vars;
}

/** Read a MAT-file from disk (see parseMat). */
export function readMat(path: string): Record<string, MatValue> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TlError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${(e as Error).message})`);
  }
  return parseMat(buf, path);
}

/** The strings of a cell array of char rows (e.g. full_path), column-major. */
export function cellStrings(v: MatValue, where: string): string[] {
  if (v.kind === 'cell') {
    return v.items.map((it, i) => {
      if (it.kind === 'char') return it.text;
      if (it.kind === 'cell' && it.items.length === 1 && it.items[0]!.kind === 'char') return it.items[0].text;
      if (it.kind === 'numeric' && it.data.length === 0) return '';
      throw new TlError(`${where}: element ${i} is not a string`);
    });
  }
  if (v.kind === 'char') {
    // a 2-D char matrix: one string per row (column-major storage)
    const [rows = 0, cols = 0] = v.dims;
    const out: string[] = [];
    const chars = Array.from(v.text);
    for (let r = 0; r < rows; r++) {
      let s = '';
      for (let c = 0; c < cols; c++) s += chars[c * rows + r] ?? '';
      out.push(s.replace(/\s+$/, ''));
    }
    return out;
  }
  throw new TlError(`${where}: expected a cell array of strings, found ${v.kind}`);
}

/** The values of a numeric array as float64 (column-major). */
export function numbersOf(v: MatValue, where: string): Float64Array {
  if (v.kind !== 'numeric') throw new TlError(`${where}: expected a numeric array, found ${v.kind}`);
  return v.data;
}
