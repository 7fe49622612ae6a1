// Shared helpers for the weight-format tests: fixture paths, the canonical tiny VGG in our
// layout, a canonical form of unpickled values, and a minimal pickle writer (protocol 2)
// for generated inputs.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TlError } from '../../src/util/errors.js';
import { isTuple, NpArray, npElements, PyBytes, PyDict, PyLargeText, PySet } from '../../src/formats/pickle/index.js';
import type { WeightFile } from '../../src/formats/types.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'formats');
export const fx = (name: string): string => join(FIXTURES, name);

// ---------------------------------------------------------------------------------------
// The canonical tiny VGG (written by scripts/fixtures/make_format_fixtures.py)

export interface RefParam {
  name: string;
  shape: number[];
  offset: number;
}
export interface RefLayer {
  name: string;
  kind: 'conv' | 'linear';
  params: RefParam[];
}
export interface Reference {
  input: number[];
  flatten: number[];
  layers: RefLayer[];
  names: Record<'neon' | 'neon_auto' | 'keras' | 'torch', Record<string, string>>;
}

export const REF: Reference = JSON.parse(readFileSync(fx('tiny_vgg.json'), 'utf8'));
const refBytes = readFileSync(fx('tiny_vgg.f32'));
export const REF_DATA = new Float32Array(refBytes.buffer.slice(refBytes.byteOffset, refBytes.byteOffset + refBytes.byteLength));

export function refArray(p: RefParam): Float32Array {
  const n = p.shape.reduce((a, b) => a * b, 1);
  return REF_DATA.subarray(p.offset, p.offset + n);
}

/** Exact element-wise equality with a readable failure. */
export function expectSameArray(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/**
 * Check that a WeightFile holds exactly the canonical tiny VGG, with layer names mapped by
 * `names` (our name -> name in the file). `separateBias` maps our name to the file's bias
 * layer name for neon's unfused layout.
 */
export function expectTinyVgg(wf: WeightFile, names: Record<string, string>, separateBias?: (name: string) => string): void {
  for (const ref of REF.layers) {
    const fileName = names[ref.name]!;
    const layer = wf.layers.find((l) => l.name === fileName);
    expect(layer, `layer ${fileName}`).toBeDefined();
    expect(layer!.kind).toBe(ref.kind);
    const W = layer!.params.find((p) => p.name === 'W')!;
    const refW = ref.params.find((p) => p.name === 'W')!;
    expect(W.shape, `${fileName} W shape`).toEqual(refW.shape);
    expectSameArray(W.data, refArray(refW), `${fileName} W`);
    const refB = ref.params.find((p) => p.name === 'b')!;
    let b = layer!.params.find((p) => p.name === 'b');
    if (separateBias) {
      expect(b).toBeUndefined();
      const bl = wf.layers.find((l) => l.name === separateBias(fileName));
      expect(bl?.kind, `bias layer of ${fileName}`).toBe('bias');
      b = bl!.params[0];
      expect(b!.name).toBe('b');
    }
    expect(b!.shape).toEqual(refB.shape);
    expectSameArray(b!.data, refArray(refB), `${fileName} b`);
  }
}

/** Run `fn`; it must throw a TlError whose message matches every pattern. */
export async function expectTlError(fn: () => unknown, ...patterns: (string | RegExp)[]): Promise<TlError> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof TlError)) {
    throw new Error(`expected a TlError, got ${err === undefined ? 'no error' : String((err as Error)?.stack ?? err)}`);
  }
  for (const p of patterns) {
    if (typeof p === 'string') expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
}

// ---------------------------------------------------------------------------------------
// Canonical form of unpickled values (mirrors canon() in make_format_fixtures.py)

export function canon(v: unknown): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return v;
  }
  if (typeof v === 'bigint') return { bigint: v.toString() };
  if (typeof v === 'string') return v;
  if (v instanceof PyLargeText) return v.text();
  if (v instanceof PyBytes) return v.py2 ? v.text() : { bytes: Buffer.from(v.data).toString('hex') };
  if (isTuple(v)) return { tuple: v.map(canon) };
  if (Array.isArray(v)) return v.map(canon);
  if (v instanceof PyDict) return { dict: [...v].map(([k, x]) => [canon(k), canon(x)]) };
  if (v instanceof PySet) return { set: [...v].map(canon).sort((a, b) => (a as number) - (b as number)) };
  if (v instanceof NpArray) {
    return {
      ndarray: {
        dtype: v.dtype!.str,
        shape: v.shape,
        values: npElements(v, (m) => {
          throw new Error(m);
        }).map(canon),
      },
    };
  }
  throw new Error(`no canonical form for ${String(v)}`);
}

// ---------------------------------------------------------------------------------------
// A minimal protocol-2 pickle writer for generated test inputs

export interface NdSpec {
  nd: Float32Array;
  shape: number[];
}
export type PyIn = null | boolean | number | bigint | string | Uint8Array | PyIn[] | readonly PyIn[] | Map<string, PyIn> | NdSpec;

export class PickleWriter {
  private parts: Uint8Array[] = [];
  private splits: number[] = [];
  constructor(private readonly py2 = false) {
    this.raw([0x80, 0x02]);
  }
  raw(bytes: number[] | Uint8Array): void {
    this.parts.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  text(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.raw([0x58, ...this.u32(b.length)]);
    this.raw(b);
  }
  bytes(b: Uint8Array): void {
    if (this.py2) this.raw([0x54, ...this.u32(b.length)]);
    else this.raw([0x42, ...this.u32(b.length)]);
    this.raw(b);
  }
  global(mod: string, name: string): void {
    this.raw(Buffer.from(`c${mod}\n${name}\n`, 'latin1'));
  }
  value(v: PyIn): void {
    if (v === null) this.raw([0x4e]);
    else if (v === true) this.raw([0x88]);
    else if (v === false) this.raw([0x89]);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 && !Object.is(v, -0)) this.raw([0x4a, ...this.u32(v >>> 0)]);
      else {
        const b = Buffer.alloc(9);
        b[0] = 0x47;
        b.writeDoubleBE(v, 1);
        this.raw(b);
      }
    } else if (typeof v === 'bigint') {
      const bytes: number[] = [];
      let x = v;
      for (;;) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
        const top = bytes[bytes.length - 1]! & 0x80;
        if ((x === 0n && !top) || (x === -1n && top)) break;
      }
      this.raw([0x8a, bytes.length, ...bytes]);
    } else if (typeof v === 'string') this.text(v);
    else if (v instanceof Uint8Array) this.bytes(v);
    else if (Array.isArray(v)) {
      if (Object.isFrozen(v)) {
        this.raw([0x28]);
        for (const x of v) this.value(x);
        this.raw([0x74]);
      } else {
        this.raw([0x5d, 0x28]);
        for (const x of v) this.value(x);
        this.raw([0x65]);
      }
    } else if (v instanceof Map) {
      this.raw([0x7d, 0x28]);
      for (const [k, x] of v) {
        if (this.py2) {
          const kb = Buffer.from(k, 'latin1');
          this.raw([0x55, kb.length]);
          this.raw(kb);
        } else this.text(k);
        this.value(x);
      }
      this.raw([0x75]);
    } else {
      this.ndarray(v as NdSpec);
    }
  }
  ndarray(a: NdSpec): void {
    this.global('numpy.core.multiarray', '_reconstruct');
    this.global('numpy', 'ndarray');
    this.raw([0x4b, 0x00, 0x85]); // (0,)
    if (this.py2) this.raw([0x55, 1, 0x62]);
    else this.raw([0x43, 1, 0x62]); // b'b'
    this.raw([0x87, 0x52, 0x28, 0x4b, 0x01]); // TUPLE3 REDUCE MARK 1
    this.raw([0x28]);
    for (const d of a.shape) this.raw([0x4a, ...this.u32(d)]);
    this.raw([0x74]); // shape tuple
    this.global('numpy', 'dtype');
    this.text('f4');
    this.raw([0x89, 0x88, 0x87, 0x52]); // ('f4', False, True) REDUCE
    this.raw([0x28, 0x4b, 0x03]);
    this.text('<');
    this.raw([0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0x00, 0x74, 0x62]);
    this.raw([0x89]); // fortran False
    const raw = new Uint8Array(a.nd.buffer, a.nd.byteOffset, a.nd.byteLength);
    if (this.py2) this.bytes(raw);
    else {
      // Python 3 numpy: _codecs.encode(raw.decode('latin1'), 'latin1')
      this.global('_codecs', 'encode');
      const utf8 = Buffer.from(Buffer.from(raw).toString('latin1'), 'utf8');
      this.raw([0x58, ...this.u32(utf8.length)]);
      this.raw(utf8);
      this.text('latin1');
      this.raw([0x86, 0x52]);
    }
    this.raw([0x74, 0x62]); // TUPLE (state) BUILD
  }
  /**
   * A float32 array whose raw bytes the caller streams in between the segments that
   * finishSegments() returns (Python 2 BINSTRING of `byteLen` bytes, or Python 3
   * `_codecs.encode` of a BINUNICODE of `utf8Len` bytes).
   */
  streamedArray(shape: number[], byteLen: number, utf8Len: number): void {
    const before = this.parts.length;
    this.ndarray({ nd: new Float32Array(0), shape });
    // drop the empty data string and re-emit its header with the streamed length
    const rest = this.parts.splice(before);
    const isData = (p: Uint8Array): boolean => p.length === 5 && (p[0] === 0x54 || p[0] === 0x58) && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0;
    const at = rest.findIndex(isData);
    const n = this.py2 ? byteLen : utf8Len;
    rest[at] = Uint8Array.from([rest[at]![0]!, ...this.u32(n)]);
    this.parts.push(...rest.slice(0, at + 1));
    this.splits.push(this.parts.length);
    this.parts.push(...rest.slice(at + 2)); // skip the (empty) payload part
  }
  finish(): Uint8Array {
    this.raw([0x2e]);
    return Buffer.concat(this.parts);
  }
  finishSegments(): Uint8Array[] {
    this.raw([0x2e]);
    const out: Uint8Array[] = [];
    let from = 0;
    for (const s of [...this.splits, this.parts.length]) {
      out.push(Buffer.concat(this.parts.slice(from, s)));
      from = s;
    }
    return out;
  }
}

export function pickleOf(v: PyIn, py2 = false): Uint8Array {
  const w = new PickleWriter(py2);
  w.value(v);
  return w.finish();
}
