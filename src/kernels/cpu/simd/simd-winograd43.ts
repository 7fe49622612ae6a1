// Winograd F(4×4, 3×3)'s transforms in WebAssembly SIMD, emitted by asm.ts into the module
// of simd-winograd.ts, four tiles at once (lanes = four tiles side by side): the input's
// V_ξ = (Bᵀ·d·B)_ξ, the output's Aᵀ·M·A and the output gradient's A·e·Aᵀ, as
// winograd43Input, winograd43Output and winograd43GradOutput in winograd43.ts compute them
// in float64 (the readable reference; the tests compare the two), and the filter transform
// and the weight gradient's last step. Arithmetic is float32. simd-winograd43-run.ts calls
// them on a thread's instance.
//
// Why lanes = tiles: the transformed planes V_ξ[C, T] and M_ξ[K, T] are rows of tiles, so
// loads and stores on that side are whole vectors, and both passes of a transform (down
// the rows, across the columns) are plain vector arithmetic with no lane movement. The
// one rearrangement is on the image side, where a tile's columns are 4 consecutive floats:
// four tiles' 4 columns are a 4 × 4 transpose (8 two-vector shuffles, each one
// unpack instruction), and the input patch's columns 4 and 5 are the next tile's 0 and 1
// (4 shuffles more).
//
// F(4×4, 3×3)'s matrices (winograd43.ts), as applied to a 6-vector d or a 4-vector e:
//   Bᵀ·d = [4(d0 − d2) + (d4 − d2), (d3 + d4) − 4(d1 + d2), (d4 − d3) + 4(d1 − d2),
//           (d4 − d2) + 2(d3 − d1), (d4 − d2) − 2(d3 − d1), 4(d1 − d3) + (d5 − d3)]
//   Aᵀ·m = [m0 + a + c, b + 2d, a + 4c, b + 8d + m5]   (a, b = m1 ± m2; c, d = m3 ± m4)
//   A·e  = [e0, s + o, s − o, s4 + o8, s4 − o8, e3]   (s = e0 + e2, o = e1 + e3, s4 = e0 + 4e2, o8 = 2e1 + 8e3)
import { i32, op, v128, type Bytes, type FuncDef } from './asm.js';

/** A vector expression: a v128 local, or an operation on expressions. */
type Ex = number | { f: Bytes; args: Ex[] };
const emit = (e: Ex): Bytes[] => (typeof e === 'number' ? [op.localGet(e)] : [...e.args.flatMap(emit), e.f]);
const add = (a: Ex, b: Ex): Ex => ({ f: op.f32x4Add, args: [a, b] });
const sub = (a: Ex, b: Ex): Ex => ({ f: op.f32x4Sub, args: [a, b] });
const mul = (a: Ex, b: Ex): Ex => ({ f: op.f32x4Mul, args: [a, b] });

/** Byte indices picking 32-bit lanes of two vectors (0-3: the first's, 4-7: the second's). */
const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
const UNPACK_LO = lanes(0, 4, 1, 5), UNPACK_HI = lanes(2, 6, 3, 7), HALVES_LO = lanes(0, 1, 4, 5), HALVES_HI = lanes(2, 3, 6, 7);
const shuf = (l: number[], a: Ex, b: Ex): Ex => ({ f: op.i8x16Shuffle(l), args: [a, b] });

const times = <T>(n: number, f: (x: number) => T[]): T[] => Array.from({ length: n }, (_, x) => f(x)).flat();
const get = op.localGet, set = op.localSet;
/** local ← expression */
const let_ = (local: number, e: Ex): Bytes[] => [...emit(e), set(local)];
/** `byte address + c·scale` (scale: an i32 local) on the stack. */
const addr = (base: number, c: number, scale: number): Bytes[] => (c === 0 ? [get(base)] : [get(base), get(scale), op.i32Const(c), op.i32Mul, op.i32Add]);

/** Locals v128 constants 2, 4, 8 (set at the function's start). */
function constants(first: number): { K2: number; K4: number; K8: number; init: Bytes[] } {
  const [K2, K4, K8] = [first, first + 1, first + 2];
  const init = [[2, K2], [4, K4], [8, K8]].flatMap(([v, l]) => [op.v128ConstF32([v!, v!, v!, v!]), set(l!)]);
  return { K2, K4, K8, init };
}

const bt = (d: Ex[], K2: number, K4: number): Ex[] => {
  const [d0, d1, d2, d3, d4, d5] = d as [Ex, Ex, Ex, Ex, Ex, Ex];
  return [
    add(mul(sub(d0, d2), K4), sub(d4, d2)),
    sub(add(d3, d4), mul(add(d1, d2), K4)),
    add(sub(d4, d3), mul(sub(d1, d2), K4)),
    add(sub(d4, d2), mul(sub(d3, d1), K2)),
    sub(sub(d4, d2), mul(sub(d3, d1), K2)),
    add(mul(sub(d1, d3), K4), sub(d5, d3)),
  ];
};
const at = (m: Ex[], K2: number, K4: number, K8: number): Ex[] => {
  const [m0, m1, m2, m3, m4, m5] = m as [Ex, Ex, Ex, Ex, Ex, Ex];
  const a = add(m1, m2), b = sub(m1, m2), c = add(m3, m4), d = sub(m3, m4);
  return [add(add(m0, a), c), add(b, mul(d, K2)), add(a, mul(c, K4)), add(add(b, mul(d, K8)), m5)];
};
const av = (e: Ex[], K2: number, K4: number, K8: number): Ex[] => {
  const [e0, e1, e2, e3] = e as [Ex, Ex, Ex, Ex];
  const s = add(e0, e2), o = add(e1, e3), s4 = add(e0, mul(e2, K4)), o8 = add(mul(e1, K2), mul(e3, K8));
  return [e0, add(s, o), sub(s, o), add(s4, o8), sub(s4, o8), e3];
};

/** out[l] ← lane l of a, b, c, d (a 4 × 4 transpose), with t[0..3] as temporaries. */
const transpose = (a: number, b: number, c: number, d: number, t: number[], out: number[]): Bytes[] => [
  ...let_(t[0]!, shuf(UNPACK_LO, a, b)), ...let_(t[1]!, shuf(UNPACK_LO, c, d)),
  ...let_(t[2]!, shuf(UNPACK_HI, a, b)), ...let_(t[3]!, shuf(UNPACK_HI, c, d)),
  ...let_(out[0]!, shuf(HALVES_LO, t[0]!, t[1]!)), ...let_(out[1]!, shuf(HALVES_HI, t[0]!, t[1]!)),
  ...let_(out[2]!, shuf(HALVES_LO, t[2]!, t[3]!)), ...let_(out[3]!, shuf(HALVES_HI, t[2]!, t[3]!)),
];

const range = (first: number, n: number): number[] => Array.from({ length: n }, (_, x) => first + x);
/** Decrements local `counter` and loops while it is not zero (the end of a `loop` body). */
const countDown = (counter: number): Bytes[] => [get(counter), op.i32Const(1), op.i32Sub, op.localTee(counter), op.brIf(0)];

/**
 * `wino43In(src, wp, th, twq, dst, plane, ld)`: src is one zero-padded input plane, wp
 * floats a row; tile (i, j) of th rows of 4·twq tiles reads the 6 × 6 patch at row 4i,
 * column 4j, and its 36 outputs go to the planes dst + ξ·plane at byte i·ld + 4j. The
 * plane needs 16·twq + 4 columns and 4·th + 2 rows. Per four tiles and patch row: five
 * loads (columns 16j' .. 16j' + 19), the transpose to the patch's columns 0-3 and the
 * shuffles to its columns 4-5 (lanes = tiles), Bᵀ across them; then Bᵀ down each column.
 */
function inputTransform(): FuncDef {
  const [src, wp, th, twq, dst, plane, ld] = range(0, 7);
  const [i, j, rowPtr, p, o, rowBytes, outRow, outStart] = range(7, 8);
  const { K2, K4, init } = constants(15);
  const L = range(18, 5), T = range(23, 4), c = range(27, 6);
  const h = (r: number, q: number) => 33 + 6 * r + q;
  const row = (r: number): Bytes[] => [
    ...addr(p, r, rowBytes), op.localTee(o),
    ...times(5, (n) => [...(n === 0 ? [] : [get(o)]), op.v128Load(16 * n), set(L[n]!)]),
    ...transpose(L[0]!, L[1]!, L[2]!, L[3]!, T, c),
    ...let_(T[0]!, shuf(UNPACK_LO, L[1]!, L[2]!)), ...let_(T[1]!, shuf(UNPACK_LO, L[3]!, L[4]!)),
    ...let_(c[4]!, shuf(HALVES_LO, T[0]!, T[1]!)), ...let_(c[5]!, shuf(HALVES_HI, T[0]!, T[1]!)),
    ...bt(c, K2, K4).flatMap((e, q) => let_(h(r, q), e)),
  ];
  const column = (q: number): Bytes[] => bt(range(0, 6).map((r) => h(r, q)), K2, K4).flatMap((e, r) => [...addr(outRow, 6 * r + q, plane), ...emit(e), op.v128Store(0)]);
  const body: Bytes[] = [
    ...init,
    get(wp), op.i32Const(4), op.i32Mul, set(rowBytes),
    get(th), set(i), get(src), set(rowPtr), get(dst), set(outStart),
    op.loop, // for each row of tiles
    get(twq), set(j), get(rowPtr), set(p), get(outStart), set(outRow),
    op.loop, // for each group of four tiles
    ...times(6, row), ...times(6, column),
    get(p), op.i32Const(64), op.i32Add, set(p), // 16 columns on
    get(outRow), op.i32Const(16), op.i32Add, set(outRow), // 4 tiles on
    ...countDown(j),
    op.end,
    get(rowPtr), get(rowBytes), op.i32Const(4), op.i32Mul, op.i32Add, set(rowPtr), // 4 rows down
    get(outStart), get(ld), op.i32Add, set(outStart), // next row of tiles
    ...countDown(i),
    op.end,
  ];
  return { name: 'wino43In', params: [i32, i32, i32, i32, i32, i32, i32], results: [], locals: [[8, i32], [54, v128]], body };
}

/**
 * `wino43Out(src, plane, th, twq, dst, ld)`: y = Aᵀ·M·A of th rows of 4·twq tiles whose 36
 * products lie in the planes src + ξ·plane (bytes; byte i·ld + 4j for tile (i, j));
 * writes the 4 × 4 outputs of tile (i, j) at rows 4i .. 4i + 3, columns 4j .. 4j + 3 of
 * dst, rows of 16·twq floats. Per four tiles: Aᵀ down each of the 6 columns (36 loads),
 * Aᵀ across each of the 4 rows, and a transpose of each output row to the tiles' columns.
 */
function outputTransform(): FuncDef {
  const [src, plane, th, twq, dst, ld] = range(0, 6);
  const [i, j, p, o, rowBytes, outPtr, rowStart] = range(6, 7);
  const { K2, K4, K8, init } = constants(13);
  const m = range(16, 6), y = range(22, 4), T = range(26, 4), out = range(30, 4);
  const s = (r: number, q: number) => 34 + 6 * r + q;
  const column = (q: number): Bytes[] => [
    ...times(6, (r) => [...addr(p, 6 * r + q, plane), op.v128Load(0), set(m[r]!)]),
    ...at(m, K2, K4, K8).flatMap((e, r) => let_(s(r, q), e)),
  ];
  const row = (r: number): Bytes[] => [
    ...at(range(0, 6).map((q) => s(r, q)), K2, K4, K8).flatMap((e, q) => let_(y[q]!, e)),
    ...transpose(y[0]!, y[1]!, y[2]!, y[3]!, T, out),
    ...times(4, (l) => [...addr(o, r, rowBytes), get(out[l]!), op.v128Store(16 * l)]),
  ];
  const body: Bytes[] = [
    ...init,
    get(twq), op.i32Const(64), op.i32Mul, set(rowBytes), // one output row: 16·twq floats
    get(th), set(i), get(src), set(rowStart), get(dst), set(outPtr),
    op.loop, // for each row of tiles
    get(twq), set(j), get(rowStart), set(p), get(outPtr), set(o),
    op.loop, // for each group of four tiles
    ...times(6, column), ...times(4, row),
    get(p), op.i32Const(16), op.i32Add, set(p), // 4 tiles on
    get(o), op.i32Const(64), op.i32Add, set(o), // 16 output columns on
    ...countDown(j),
    op.end,
    get(rowStart), get(ld), op.i32Add, set(rowStart), // next row of tiles
    get(outPtr), get(rowBytes), op.i32Const(4), op.i32Mul, op.i32Add, set(outPtr), // 4 output rows down
    ...countDown(i),
    op.end,
  ];
  return { name: 'wino43Out', params: [i32, i32, i32, i32, i32, i32], results: [], locals: [[7, i32], [45, v128]], body };
}

/**
 * `wino43Dy(src, wp, th, twq, dst, plane, ld)`: the output gradient's transform Ŷ = A·e·Aᵀ of
 * the weight gradient for th rows of 4·twq tiles: tile (i, j) takes the 4 × 4 block e at
 * rows 4i .., columns 4j .. of src (a zero-padded plane of 16·twq floats a row, wp, and
 * 4·th rows); its 36 values go to the planes dst + ξ·plane at byte i·ld + 4j. Per four
 * tiles and block row: four loads transposed to the block's columns (lanes = tiles), A
 * across them; then A down each of the 6 columns.
 */
function gradOutputTransform(): FuncDef {
  const [src, wp, th, twq, dst, plane, ld] = range(0, 7);
  const [i, j, p, o, rowBytes, rowStart, outStart] = range(7, 7);
  const { K2, K4, K8, init } = constants(14);
  const L = range(17, 4), T = range(21, 4), e = range(25, 4);
  const r = (row: number, q: number) => 29 + 6 * row + q;
  const row = (b: number): Bytes[] => [
    ...times(4, (n) => [...addr(p, b, rowBytes), op.v128Load(16 * n), set(L[n]!)]),
    ...transpose(L[0]!, L[1]!, L[2]!, L[3]!, T, e),
    ...av(e, K2, K4, K8).flatMap((x, q) => let_(r(b, q), x)),
  ];
  const column = (q: number): Bytes[] => av(range(0, 4).map((b) => r(b, q)), K2, K4, K8).flatMap((x, ii) => [...addr(o, 6 * ii + q, plane), ...emit(x), op.v128Store(0)]);
  const body: Bytes[] = [
    ...init,
    get(wp), op.i32Const(4), op.i32Mul, set(rowBytes),
    get(th), set(i), get(src), set(rowStart), get(dst), set(outStart),
    op.loop, // for each row of tiles
    get(twq), set(j), get(rowStart), set(p), get(outStart), set(o),
    op.loop, // for each group of four tiles
    ...times(4, row), ...times(6, column),
    get(p), op.i32Const(64), op.i32Add, set(p), // 16 columns on
    get(o), op.i32Const(16), op.i32Add, set(o), // 4 tiles on
    ...countDown(j),
    op.end,
    get(rowStart), get(rowBytes), op.i32Const(4), op.i32Mul, op.i32Add, set(rowStart), // 4 rows down
    get(outStart), get(ld), op.i32Add, set(outStart), // next row of tiles
    ...countDown(i),
    op.end,
  ];
  return { name: 'wino43Dy', params: [i32, i32, i32, i32, i32, i32, i32], results: [], locals: [[7, i32], [39, v128]], body };
}

/**
 * `wino43U(src, n4, dst, plane)`: the filter transform U_ξ = (G·g·Gᵀ)_ξ of 4·n4 filters g
 * of 9 consecutive floats each at src (3 floats readable past the last), 36 values a
 * filter to the planes dst + ξ·plane (bytes) at float n for filter n. Per four filters:
 * three loads each (floats 0-3, 4-7, 8-11 of the filter) transposed to g0 .. g8, lanes =
 * filters; G down each of the 3 columns, then G across each of the 6 rows:
 *   G·x = [x0/4, −(e + x1)/6, (x1 − e)/6, f + h, f − h, x2]  (e = x0 + x2, f = x0/24 + x2/6, h = x1/12)
 */
function filterTransform(): FuncDef {
  const [src, n4, dst, plane] = range(0, 4);
  const [p, o] = range(4, 2);
  const [Q4, R6, N6, R12, R24] = range(6, 5);
  const init = ([[0.25, Q4], [1 / 6, R6], [-1 / 6, N6], [1 / 12, R12], [1 / 24, R24]] as const).flatMap(([v, l]) => [op.v128ConstF32([v, v, v, v]), set(l)]);
  const L = range(11, 12), T = range(23, 4), g = range(27, 9);
  const t = (i: number, s: number) => 36 + 3 * i + s;
  const gx = (x0: Ex, x1: Ex, x2: Ex): Ex[] => {
    const e = add(x0, x2), f = add(mul(x0, R24), mul(x2, R6)), h = mul(x1, R12);
    return [mul(x0, Q4), mul(add(e, x1), N6), mul(sub(x1, e), R6), add(f, h), sub(f, h), x2];
  };
  const body: Bytes[] = [
    ...init,
    get(src), set(p), get(dst), set(o),
    op.loop, // for each group of four filters
    ...times(4, (l) => times(3, (v) => [get(p), op.v128Load(36 * l + 16 * v), set(L[3 * l + v]!)])),
    ...transpose(L[0]!, L[3]!, L[6]!, L[9]!, T, g.slice(0, 4)),
    ...transpose(L[1]!, L[4]!, L[7]!, L[10]!, T, g.slice(4, 8)),
    ...let_(T[0]!, shuf(UNPACK_LO, L[2]!, L[5]!)), ...let_(T[1]!, shuf(UNPACK_LO, L[8]!, L[11]!)),
    ...let_(g[8]!, shuf(HALVES_LO, T[0]!, T[1]!)),
    ...times(3, (s) => gx(g[s]!, g[3 + s]!, g[6 + s]!).flatMap((e, i) => let_(t(i, s), e))),
    ...times(6, (i) => gx(t(i, 0), t(i, 1), t(i, 2)).flatMap((e, j) => [...addr(o, 6 * i + j, plane), ...emit(e), op.v128Store(0)])),
    get(p), op.i32Const(144), op.i32Add, set(p), // 4 filters on
    get(o), op.i32Const(16), op.i32Add, set(o),
    ...countDown(n4),
    op.end,
  ];
  return { name: 'wino43U', params: [i32, i32, i32, i32], results: [], locals: [[2, i32], [48, v128]], body };
}

/**
 * `wino43Dw(src, n4, plane, dst)`: the weight gradient's last step d = Gᵀ·Ĝ·G (3 × 3) for
 * 4·n4 filters whose 36 transformed values lie in the planes src + ξ·plane (bytes) at
 * float f, written as 9 consecutive floats a filter from dst (3 floats spare after the
 * last). Per four filters: 36 loads (lanes = filters), Gᵀ down each of the 6 columns and
 * across each of the 3 rows, then the 9 results transposed back to the filters:
 *   Gᵀ·z = [z0/4 − a/6 + b/24, (z2 − z1)/6 + (z3 − z4)/12, (b − a)/6 + z5]  (a = z1 + z2, b = z3 + z4)
 * Filter l's floats 8 .. 11 are stored whole (its ninth and the next filter's first three,
 * written again right after).
 */
function filterGradTransform(): FuncDef {
  const [src, n4, plane, dst] = range(0, 4);
  const [p, o] = range(4, 2);
  const [Q4, R6, R12, R24] = range(6, 4);
  const init = ([[0.25, Q4], [1 / 6, R6], [1 / 12, R12], [1 / 24, R24]] as const).flatMap(([v, l]) => [op.v128ConstF32([v, v, v, v]), set(l)]);
  const z = range(10, 6), T = range(16, 4), A = range(20, 4), B = range(24, 4), d = range(28, 9);
  const r = (i: number, q: number) => 37 + 6 * i + q;
  const gt = (z0: Ex, z1: Ex, z2: Ex, z3: Ex, z4: Ex, z5: Ex): Ex[] => {
    const a = add(z1, z2), b = add(z3, z4);
    return [add(sub(mul(z0, Q4), mul(a, R6)), mul(b, R24)), add(mul(sub(z2, z1), R6), mul(sub(z3, z4), R12)), add(mul(sub(b, a), R6), z5)];
  };
  const body: Bytes[] = [
    ...init,
    get(src), set(p), get(dst), set(o),
    op.loop, // for each group of four filters
    ...times(6, (q) => [
      ...times(6, (i) => [...addr(p, 6 * i + q, plane), op.v128Load(0), set(z[i]!)]),
      ...gt(z[0]!, z[1]!, z[2]!, z[3]!, z[4]!, z[5]!).flatMap((e, i) => let_(r(i, q), e)),
    ]),
    ...times(3, (i) => gt(r(i, 0), r(i, 1), r(i, 2), r(i, 3), r(i, 4), r(i, 5)).flatMap((e, j) => let_(d[3 * i + j]!, e))),
    ...transpose(d[0]!, d[1]!, d[2]!, d[3]!, T, A),
    ...transpose(d[4]!, d[5]!, d[6]!, d[7]!, T, B),
    ...times(4, (l) => [
      get(o), get(A[l]!), op.v128Store(36 * l),
      get(o), get(B[l]!), op.v128Store(36 * l + 16),
      get(o), ...emit(shuf(lanes(l, l, l, l), d[8]!, d[8]!)), op.v128Store(36 * l + 32),
    ]),
    get(p), op.i32Const(16), op.i32Add, set(p), // 4 filters on
    get(o), op.i32Const(144), op.i32Add, set(o),
    ...countDown(n4),
    op.end,
  ];
  return { name: 'wino43Dw', params: [i32, i32, i32, i32], results: [], locals: [[2, i32], [49, v128]], body };
}

/** F(4×4, 3×3)'s functions, for the Winograd module (simd-winograd.ts). */
export function winograd43Funcs(): FuncDef[] {
  return [inputTransform(), outputTransform(), gradOutputTransform(), filterTransform(), filterGradTransform()];
}

export type Winograd43InputKernel = (src: number, wp: number, th: number, twq: number, dst: number, plane: number, ld: number) => void;
export type Winograd43OutputKernel = (src: number, plane: number, th: number, twq: number, dst: number, ld: number) => void;
export type Winograd43GradOutputKernel = Winograd43InputKernel;
export type Winograd43FilterKernel = (src: number, n4: number, dst: number, plane: number) => void;
export type Winograd43FilterGradKernel = (src: number, n4: number, plane: number, dst: number) => void;
