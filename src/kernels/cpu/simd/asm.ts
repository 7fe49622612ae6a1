// A small WebAssembly assembler: just the opcodes and encodings the fast backend's kernels
// need, so that their modules are emitted by readable TypeScript at start-up (no binary in
// the repository, no compiler dependency, and the relaxed-SIMD and plain-SIMD variants of
// a kernel come from the same source). Reference: the WebAssembly core spec, binary format
// (§5), and the fixed-width SIMD and relaxed-SIMD proposals' opcode tables.

export type Bytes = number[];

/** Unsigned LEB128. */
export function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32 immediates). */
export function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const str = (s: string): Bytes => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: Bytes): Bytes => [id, ...uleb(body.length), ...body];

export const i32 = 0x7f;
export const v128 = 0x7b;

/** Instructions, each an array of bytes (concatenate them into a function body). */
export const op = {
  localGet: (i: number): Bytes => [0x20, ...uleb(i)],
  localSet: (i: number): Bytes => [0x21, ...uleb(i)],
  localTee: (i: number): Bytes => [0x22, ...uleb(i)],
  i32Const: (v: number): Bytes => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  /** `loop` with no result; `br_if 0` inside jumps back to its start. */
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  // SIMD (prefix 0xfd). memarg = alignment exponent (a hint) and a constant byte offset.
  v128Load: (offset = 0): Bytes => [0xfd, ...uleb(0x00), 2, ...uleb(offset)],
  /** One f32 from memory, broadcast to all four lanes. */
  v128Load32Splat: (offset = 0): Bytes => [0xfd, ...uleb(0x09), 2, ...uleb(offset)],
  v128Store: (offset = 0): Bytes => [0xfd, ...uleb(0x0b), 2, ...uleb(offset)],
  /** A constant vector of four f32 lanes (little-endian bytes). */
  v128ConstF32: (lanes: [number, number, number, number]): Bytes => [0xfd, ...uleb(0x0c), ...new Uint8Array(Float32Array.from(lanes).buffer)],
  /** Lanes of two vectors picked by 16 byte indices (0–15: the first, 16–31: the second). */
  i8x16Shuffle: (lanes: number[]): Bytes => [0xfd, ...uleb(0x0d), ...lanes],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Neg: [0xfd, ...uleb(0xe1)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  /** Relaxed SIMD: a·b + c, fused or not as the hardware prefers (operands a, b, c on the stack). */
  f32x4RelaxedMadd: [0xfd, ...uleb(0x105)],
};

export interface FuncDef {
  name: string;
  params: number[];
  results: number[];
  /** Extra locals, after the parameters: [count, type] runs. */
  locals: Array<[number, number]>;
  body: Bytes[];
}

/** A module importing one memory as env.memory (min `pages` 64 KiB pages) and exporting `funcs`. */
export function moduleBytes(funcs: FuncDef[], pages = 1): Uint8Array {
  const types = section(1, vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))])));
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(pages)]]));
  const functions = section(3, vec(funcs.map((_, i) => uleb(i))));
  const exports = section(7, vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vec(funcs.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.body.flat(), ...op.end];
    return [...uleb(body.length), ...body];
  })));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...functions, ...exports, ...code]);
}
