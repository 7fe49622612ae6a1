// Winograd F(2×2, 3×3)'s transforms in WebAssembly SIMD, emitted by asm.ts, four tiles at
// once: the input's V_ξ = (Bᵀ·d·B)_ξ as winogradInput in winograd.ts computes it in
// JavaScript (float64; the tests compare the two), and likewise the output's and the
// output gradient's.
//
// `winoIn(src, wp, th, twq, dst, plane)`: src is one zero-padded input plane, wp floats a
// row (bytes: 4·wp); the tiles are th rows of 4·twq (a tile row padded to a multiple of 4);
// tile (i, j) reads the 4 × 4 patch at row 2i, column 2j. Its 16 outputs go to the 16
// planes dst + ξ·plane (bytes), at float i·4·twq + j. The padded plane must have at least
// 8·twq + 2 columns and 2·th + 2 rows.
//
// Four tiles side by side read columns 2j .. 2j + 9. With v0, v1 the columns 2j .. 2j + 7
// and w0, w1 the columns 2j + 2 .. 2j + 9 (four unaligned loads a row), the even and odd
// lanes give, for each of the four tiles, its patch columns 0, 1 (from v) and 2, 3 (from w):
//   col0 = even(v0, v1), col1 = odd(v0, v1), col2 = even(w0, w1), col3 = odd(w0, w1).
// Then Bᵀ·d (rows: d0 − d2, d1 + d2, d2 − d1, d1 − d3) and ·B (the same on columns).
// Arithmetic is float32 here (winograd.ts rounds once from float64), within the
// tolerance the tests hold the fast backend to.
import { i32, moduleBytes, op, v128, type Bytes } from './asm.js';
import { winograd43Funcs } from './simd-winograd43.js';

const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];

export function winogradModuleBytes(): Uint8Array {
  const [src, wp, th, twq, dst, plane] = [0, 1, 2, 3, 4, 5];
  const [i, j, rowPtr, p, o, rowBytes, outRow] = [6, 7, 8, 9, 10, 11, 12];
  // v128 locals: d[r][k] (16), row combos a/b/c/d [k] (16), loads (4)
  const V0 = 13;
  const dv = (r: number, k: number) => V0 + 4 * r + k;
  const comb = (row: number, k: number) => V0 + 16 + 4 * row + k;
  const ld = (q: number) => V0 + 32 + q;
  const get = op.localGet, set = op.localSet;
  const times = <T>(n: number, f: (x: number) => T[]): T[] => Array.from({ length: n }, (_, x) => f(x)).flat();
  /** d[r][0..3] for the four tiles from patch row r (pointer p + r·rowBytes). */
  const loadRow = (r: number): Bytes[] => [
    ...(r === 0 ? [get(p)] : [get(p), get(rowBytes), op.i32Const(r), op.i32Mul, op.i32Add]), op.localTee(o),
    op.v128Load(0), set(ld(0)), get(o), op.v128Load(16), set(ld(1)), get(o), op.v128Load(8), set(ld(2)), get(o), op.v128Load(24), set(ld(3)),
    get(ld(0)), get(ld(1)), op.i8x16Shuffle(EVEN), set(dv(r, 0)),
    get(ld(0)), get(ld(1)), op.i8x16Shuffle(ODD), set(dv(r, 1)),
    get(ld(2)), get(ld(3)), op.i8x16Shuffle(EVEN), set(dv(r, 2)),
    get(ld(2)), get(ld(3)), op.i8x16Shuffle(ODD), set(dv(r, 3)),
  ];
  const bin = (a: number, b: number, f: Bytes): Bytes[] => [get(a), get(b), f];
  // Bᵀ·d: rows 0..3 of the combination, per patch column k
  const rows = times(4, (k) => [
    ...bin(dv(0, k), dv(2, k), op.f32x4Sub), set(comb(0, k)),
    ...bin(dv(1, k), dv(2, k), op.f32x4Add), set(comb(1, k)),
    ...bin(dv(2, k), dv(1, k), op.f32x4Sub), set(comb(2, k)),
    ...bin(dv(1, k), dv(3, k), op.f32x4Sub), set(comb(3, k)),
  ]);
  // ·B on each row, stored to planes 4·row + 0..3
  const store = (xi: number, value: Bytes[]): Bytes[] => [
    get(outRow), ...(xi === 0 ? [] : [get(plane), op.i32Const(xi), op.i32Mul, op.i32Add]), ...value, op.v128Store(0),
  ];
  const cols = times(4, (row) => [
    ...store(4 * row, bin(comb(row, 0), comb(row, 2), op.f32x4Sub)),
    ...store(4 * row + 1, bin(comb(row, 1), comb(row, 2), op.f32x4Add)),
    ...store(4 * row + 2, bin(comb(row, 2), comb(row, 1), op.f32x4Sub)),
    ...store(4 * row + 3, bin(comb(row, 1), comb(row, 3), op.f32x4Sub)),
  ]);
  const body: Bytes[] = [
    get(wp), op.i32Const(4), op.i32Mul, set(rowBytes),
    get(th), set(i),
    get(src), set(rowPtr),
    get(dst), set(outRow),
    op.loop, // for each row of tiles
    get(twq), set(j),
    get(rowPtr), set(p),
    op.loop, // for each group of four tiles
    ...times(4, loadRow),
    ...rows,
    ...cols,
    get(p), op.i32Const(32), op.i32Add, set(p), // 8 columns on
    get(outRow), op.i32Const(16), op.i32Add, set(outRow), // 4 tiles on
    get(j), op.i32Const(1), op.i32Sub, op.localTee(j), op.brIf(0),
    op.end,
    get(rowPtr), get(rowBytes), op.i32Const(2), op.i32Mul, op.i32Add, set(rowPtr), // 2 rows down
    get(i), op.i32Const(1), op.i32Sub, op.localTee(i), op.brIf(0),
    op.end,
  ];
  return moduleBytes([
    { name: 'winoIn', params: [i32, i32, i32, i32, i32, i32], results: [], locals: [[7, i32], [36, v128]], body },
    outputTransform(),
    gradOutputTransform(),
    ...winograd43Funcs(), // F(4×4, 3×3)'s: simd-winograd43.ts
  ]);
}

export type WinogradInputKernel = (src: number, wp: number, th: number, twq: number, dst: number, plane: number) => void;

/**
 * `winoOut(src, plane, th, twq, dst)`: the output transform y = Aᵀ·M·A of th rows of 4·twq
 * tiles whose 16 products lie in the planes src + ξ·plane (bytes; float i·4·twq + j for
 * tile (i, j)); writes the 2 × 2 outputs of tile (i, j) at rows 2i, 2i + 1 and columns
 * 2j, 2j + 1 of dst, rows of 8·twq floats. Per four tiles: 16 loads, then the rows of
 * Aᵀ·M (s = m0 + m4 + m8, u = m4 − m8 − m12 per column), then y00 = s0 + s1 + s2,
 * y01 = s1 − s2 − s3, y10 = u0 + u1 + u2, y11 = u1 − u2 − u3, lanes = tiles; the two
 * columns of each output row are interleaved (y00 of tile 0, y01 of tile 0, y00 of tile 1,
 * ...) by two shuffles into eight consecutive floats.
 */
function outputTransform() {
  const [src, plane, th, twq, dst] = [0, 1, 2, 3, 4];
  const [i, j, p, o, rowBytes, outPtr, rowStart] = [5, 6, 7, 8, 9, 10, 11];
  const V0 = 12;
  const mv = (xi: number) => V0 + xi;
  const sv = (c: number) => V0 + 16 + c; // s0..s3
  const uv = (c: number) => V0 + 20 + c; // u0..u3
  const [y00, y01, y10, y11] = [V0 + 24, V0 + 25, V0 + 26, V0 + 27];
  const get = op.localGet, set = op.localSet;
  const times = <T>(n: number, f: (x: number) => T[]): T[] => Array.from({ length: n }, (_, x) => f(x)).flat();
  const LO = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const HI = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
  const storePair = (rowOffset: Bytes[], a: number, b: number): Bytes[] => [
    get(o), ...rowOffset, get(a), get(b), op.i8x16Shuffle(LO), op.v128Store(0),
    get(o), ...rowOffset, get(a), get(b), op.i8x16Shuffle(HI), op.v128Store(16),
  ];
  const body: Bytes[] = [
    get(twq), op.i32Const(32), op.i32Mul, set(rowBytes), // one output row: 8·twq floats
    get(th), set(i),
    get(src), set(rowStart),
    get(dst), set(outPtr),
    op.loop, // for each row of tiles
    get(twq), set(j),
    get(rowStart), set(p),
    get(outPtr), set(o),
    op.loop, // for each group of four tiles
    ...times(16, (xi) => [get(p), ...(xi === 0 ? [] : [get(plane), op.i32Const(xi), op.i32Mul, op.i32Add]), op.v128Load(0), set(mv(xi))]),
    ...times(4, (c) => [
      get(mv(c)), get(mv(4 + c)), op.f32x4Add, get(mv(8 + c)), op.f32x4Add, set(sv(c)),
      get(mv(4 + c)), get(mv(8 + c)), op.f32x4Sub, get(mv(12 + c)), op.f32x4Sub, set(uv(c)),
    ]),
    get(sv(0)), get(sv(1)), op.f32x4Add, get(sv(2)), op.f32x4Add, set(y00),
    get(sv(1)), get(sv(2)), op.f32x4Sub, get(sv(3)), op.f32x4Sub, set(y01),
    get(uv(0)), get(uv(1)), op.f32x4Add, get(uv(2)), op.f32x4Add, set(y10),
    get(uv(1)), get(uv(2)), op.f32x4Sub, get(uv(3)), op.f32x4Sub, set(y11),
    ...storePair([], y00, y01),
    ...storePair([get(rowBytes), op.i32Add], y10, y11),
    get(p), op.i32Const(16), op.i32Add, set(p), // 4 tiles on
    get(o), op.i32Const(32), op.i32Add, set(o), // 8 output columns on
    get(j), op.i32Const(1), op.i32Sub, op.localTee(j), op.brIf(0),
    op.end,
    get(rowStart), get(twq), op.i32Const(16), op.i32Mul, op.i32Add, set(rowStart), // next row of tiles
    get(outPtr), get(rowBytes), op.i32Const(2), op.i32Mul, op.i32Add, set(outPtr), // two output rows down
    get(i), op.i32Const(1), op.i32Sub, op.localTee(i), op.brIf(0),
    op.end,
  ];
  return { name: 'winoOut', params: [i32, i32, i32, i32, i32], results: [], locals: [[7, i32], [28, v128]] as Array<[number, number]>, body };
}

export type WinogradOutputKernel = (src: number, plane: number, th: number, twq: number, dst: number) => void;

/**
 * `winoDy(src, wp, th, twq, dst, plane)`: the output gradient's transform Ŷ = A·e·Aᵀ of the
 * weight gradient, for th rows of 4·twq tiles: tile (i, j) takes the 2 × 2 block e at rows
 * 2i, 2i + 1 and columns 2j, 2j + 1 of src (a zero-padded plane, wp floats a row); its 16
 * values go to the planes dst + ξ·plane at float i·4·twq + j. Per four tiles: each of the
 * two rows as two loads, split into even and odd columns (e·0, e·1, lanes = tiles); rows
 * of A·e: e0, e0 + e1, e0 − e1, −e1; then the same four combinations across columns.
 */
function gradOutputTransform() {
  const [src, wp, th, twq, dst, plane] = [0, 1, 2, 3, 4, 5];
  const [i, j, p, o, rowBytes, rowStart] = [6, 7, 8, 9, 10, 11];
  const V0 = 12;
  const [l0, l1, e00, e01, e10, e11] = [V0, V0 + 1, V0 + 2, V0 + 3, V0 + 4, V0 + 5];
  const r = (row: number, col: number) => V0 + 6 + 2 * row + col; // rows of A·e, two columns each
  const get = op.localGet, set = op.localSet;
  const times = <T>(n: number, f: (x: number) => T[]): T[] => Array.from({ length: n }, (_, x) => f(x)).flat();
  const loadRow = (offset: Bytes[], even: number, odd: number): Bytes[] => [
    get(p), ...offset, op.v128Load(0), set(l0), get(p), ...offset, op.v128Load(16), set(l1),
    get(l0), get(l1), op.i8x16Shuffle(EVEN), set(even), get(l0), get(l1), op.i8x16Shuffle(ODD), set(odd),
  ];
  const store = (xi: number, value: Bytes[]): Bytes[] => [
    get(o), ...(xi === 0 ? [] : [get(plane), op.i32Const(xi), op.i32Mul, op.i32Add]), ...value, op.v128Store(0),
  ];
  const body: Bytes[] = [
    get(wp), op.i32Const(4), op.i32Mul, set(rowBytes),
    get(th), set(i),
    get(src), set(rowStart),
    get(dst), set(o),
    op.loop, // for each row of tiles
    get(twq), set(j),
    get(rowStart), set(p),
    op.loop, // for each group of four tiles
    ...loadRow([], e00, e01),
    ...loadRow([get(rowBytes), op.i32Add], e10, e11),
    // rows of A·e for both columns: e0, e0 + e1, e0 − e1, −e1
    ...times(2, (c) => {
      const top = c === 0 ? e00 : e01, bottom = c === 0 ? e10 : e11;
      return [
        get(top), set(r(0, c)),
        get(top), get(bottom), op.f32x4Add, set(r(1, c)),
        get(top), get(bottom), op.f32x4Sub, set(r(2, c)),
        get(bottom), op.f32x4Neg, set(r(3, c)),
      ];
    }),
    // the same across the two columns: x0, x0 + x1, x0 − x1, −x1
    ...times(4, (row) => [
      ...store(4 * row, [get(r(row, 0))]),
      ...store(4 * row + 1, [get(r(row, 0)), get(r(row, 1)), op.f32x4Add]),
      ...store(4 * row + 2, [get(r(row, 0)), get(r(row, 1)), op.f32x4Sub]),
      ...store(4 * row + 3, [get(r(row, 1)), op.f32x4Neg]),
    ]),
    get(p), op.i32Const(32), op.i32Add, set(p), // 8 columns on
    get(o), op.i32Const(16), op.i32Add, set(o), // 4 tiles on
    get(j), op.i32Const(1), op.i32Sub, op.localTee(j), op.brIf(0),
    op.end,
    get(rowStart), get(rowBytes), op.i32Const(2), op.i32Mul, op.i32Add, set(rowStart), // 2 rows down
    get(i), op.i32Const(1), op.i32Sub, op.localTee(i), op.brIf(0),
    op.end,
  ];
  return { name: 'winoDy', params: [i32, i32, i32, i32, i32, i32], results: [], locals: [[6, i32], [14, v128]] as Array<[number, number]>, body };
}

export type WinogradGradOutputKernel = (src: number, wp: number, th: number, twq: number, dst: number, plane: number) => void;
