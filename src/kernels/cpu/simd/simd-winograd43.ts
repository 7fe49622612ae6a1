// Winograd F(4×4, 3×3)'s transforms in WebAssembly SIMD, emitted by asm.ts into the module
// of simd-winograd.ts, four tiles at once (lanes = four tiles side by side): the input's
// V_ξ = (Bᵀ·d·B)_ξ, the output's Aᵀ·M·A and the output gradient's A·e·Aᵀ, as
// winograd43Input, winograd43Output and winograd43GradOutput in winograd43.ts compute them
// in float64 (the readable reference; the tests compare the two). Arithmetic is float32.
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
import type { SimdInstance } from './simd.js';
import { copyRow } from './gemm.js';
import { winograd43GradOutput, winograd43Input, winograd43Output } from './winograd43.js';
import type { WinogradContext } from './winograd.js';

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
 * `wino43In(src, wp, th, twq, dst, plane)`: src is one zero-padded input plane, wp floats a
 * row; tile (i, j) of th rows of 4·twq tiles reads the 6 × 6 patch at row 4i, column 4j,
 * and its 36 outputs go to the planes dst + ξ·plane (bytes) at float i·4·twq + j. The
 * plane needs 16·twq + 4 columns and 4·th + 2 rows. Per four tiles and patch row: five
 * loads (columns 16j' .. 16j' + 19), the transpose to the patch's columns 0-3 and the
 * shuffles to its columns 4-5 (lanes = tiles), Bᵀ across them; then Bᵀ down each column.
 */
function inputTransform(): FuncDef {
  const [src, wp, th, twq, dst, plane] = range(0, 6);
  const [i, j, rowPtr, p, o, rowBytes, outRow] = range(6, 7);
  const { K2, K4, init } = constants(13);
  const L = range(16, 5), T = range(21, 4), c = range(25, 6);
  const h = (r: number, q: number) => 31 + 6 * r + q;
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
    get(th), set(i), get(src), set(rowPtr), get(dst), set(outRow),
    op.loop, // for each row of tiles
    get(twq), set(j), get(rowPtr), set(p),
    op.loop, // for each group of four tiles
    ...times(6, row), ...times(6, column),
    get(p), op.i32Const(64), op.i32Add, set(p), // 16 columns on
    get(outRow), op.i32Const(16), op.i32Add, set(outRow), // 4 tiles on
    ...countDown(j),
    op.end,
    get(rowPtr), get(rowBytes), op.i32Const(4), op.i32Mul, op.i32Add, set(rowPtr), // 4 rows down
    ...countDown(i),
    op.end,
  ];
  return { name: 'wino43In', params: [i32, i32, i32, i32, i32, i32], results: [], locals: [[7, i32], [54, v128]], body };
}

/**
 * `wino43Out(src, plane, th, twq, dst)`: y = Aᵀ·M·A of th rows of 4·twq tiles whose 36
 * products lie in the planes src + ξ·plane (bytes; float i·4·twq + j for tile (i, j));
 * writes the 4 × 4 outputs of tile (i, j) at rows 4i .. 4i + 3, columns 4j .. 4j + 3 of
 * dst, rows of 16·twq floats. Per four tiles: Aᵀ down each of the 6 columns (36 loads),
 * Aᵀ across each of the 4 rows, and a transpose of each output row to the tiles' columns.
 */
function outputTransform(): FuncDef {
  const [src, plane, th, twq, dst] = range(0, 5);
  const [i, j, p, o, rowBytes, outPtr, rowStart] = range(5, 7);
  const { K2, K4, K8, init } = constants(12);
  const m = range(15, 6), y = range(21, 4), T = range(25, 4), out = range(29, 4);
  const s = (r: number, q: number) => 33 + 6 * r + q;
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
    get(rowStart), get(twq), op.i32Const(16), op.i32Mul, op.i32Add, set(rowStart), // next row of tiles
    get(outPtr), get(rowBytes), op.i32Const(4), op.i32Mul, op.i32Add, set(outPtr), // 4 output rows down
    ...countDown(i),
    op.end,
  ];
  return { name: 'wino43Out', params: [i32, i32, i32, i32, i32], results: [], locals: [[7, i32], [45, v128]], body };
}

/**
 * `wino43Dy(src, wp, th, twq, dst, plane)`: the output gradient's transform Ŷ = A·e·Aᵀ of
 * the weight gradient for th rows of 4·twq tiles: tile (i, j) takes the 4 × 4 block e at
 * rows 4i .., columns 4j .. of src (a zero-padded plane of 16·twq floats a row, wp, and
 * 4·th rows); its 36 values go to the planes dst + ξ·plane at float i·4·twq + j. Per four
 * tiles and block row: four loads transposed to the block's columns (lanes = tiles), A
 * across them; then A down each of the 6 columns.
 */
function gradOutputTransform(): FuncDef {
  const [src, wp, th, twq, dst, plane] = range(0, 6);
  const [i, j, p, o, rowBytes, rowStart] = range(6, 6);
  const { K2, K4, K8, init } = constants(12);
  const L = range(15, 4), T = range(19, 4), e = range(23, 4);
  const r = (row: number, q: number) => 27 + 6 * row + q;
  const row = (b: number): Bytes[] => [
    ...times(4, (n) => [...addr(p, b, rowBytes), op.v128Load(16 * n), set(L[n]!)]),
    ...transpose(L[0]!, L[1]!, L[2]!, L[3]!, T, e),
    ...av(e, K2, K4, K8).flatMap((x, q) => let_(r(b, q), x)),
  ];
  const column = (q: number): Bytes[] => av(range(0, 4).map((b) => r(b, q)), K2, K4, K8).flatMap((x, ii) => [...addr(o, 6 * ii + q, plane), ...emit(x), op.v128Store(0)]);
  const body: Bytes[] = [
    ...init,
    get(wp), op.i32Const(4), op.i32Mul, set(rowBytes),
    get(th), set(i), get(src), set(rowStart), get(dst), set(o),
    op.loop, // for each row of tiles
    get(twq), set(j), get(rowStart), set(p),
    op.loop, // for each group of four tiles
    ...times(4, row), ...times(6, column),
    get(p), op.i32Const(64), op.i32Add, set(p), // 16 columns on
    get(o), op.i32Const(16), op.i32Add, set(o), // 4 tiles on
    ...countDown(j),
    op.end,
    get(rowStart), get(rowBytes), op.i32Const(4), op.i32Mul, op.i32Add, set(rowStart), // 4 rows down
    ...countDown(i),
    op.end,
  ];
  return { name: 'wino43Dy', params: [i32, i32, i32, i32, i32, i32], results: [], locals: [[6, i32], [39, v128]], body };
}

/** The three F(4×4, 3×3) functions, for the Winograd module (simd-winograd.ts). */
export function winograd43Funcs(): FuncDef[] {
  return [inputTransform(), outputTransform(), gradOutputTransform()];
}

export type Winograd43InputKernel = (src: number, wp: number, th: number, twq: number, dst: number, plane: number) => void;
export type Winograd43OutputKernel = (src: number, plane: number, th: number, twq: number, dst: number) => void;
export type Winograd43GradOutputKernel = Winograd43InputKernel;

/**
 * F(4×4, 3×3)'s input transform on this thread's instance, under winograd43Input's contract
 * (the float64 JavaScript one, used for other dtypes or without the module). Per plane:
 * copied into the instance's memory inside its zero border, transformed four tiles at a
 * time into 36 planes of tile rows padded to a multiple of 4, copied into V[36, C, T].
 */
export function simdWinograd43Input(inst: SimdInstance): typeof winograd43Input {
  return (x, n0, m, C, H, W, padH, padW, TH, TW, V, pad) => {
    const kernel = inst.wino43In;
    if (!kernel || !(x instanceof Float32Array) || !(V instanceof Float32Array)) {
      winograd43Input(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
      return;
    }
    const twq = Math.ceil(TW / 4), TWp = 4 * twq, Wp = 16 * twq + 4, Hp = 4 * TH + 2;
    const padF = Hp * Wp, planeF = TH * TWp, HW = H * W;
    const f = inst.reserve(padF + 36 * planeF);
    f.fill(0, 0, padF); // the border (and rows and columns past the image) stay zero
    const Timg = TH * TW, T = m * Timg, CT = C * T;
    const wn = Math.min(W, Wp - padW);
    for (let j = 0; j < m; j++) {
      for (let c = 0; c < C; c++) {
        const src = (n0 + j) * C * HW + c * HW;
        for (let h = 0; h < H && h + padH < Hp; h++) copyRow(x, src + h * W, f, (h + padH) * Wp + padW, wn);
        kernel(0, Wp, TH, twq, 4 * padF, 4 * planeF);
        const t0 = c * T + j * Timg;
        for (let xi = 0; xi < 36; xi++) copyPlane(f, padF + xi * planeF, TWp, V, xi * CT + t0, TW, TH);
      }
    }
  };
}

/**
 * F(4×4, 3×3)'s output transform on this thread's instance, under winograd43Output's
 * contract. Per output plane (image j, channel k): its tiles' 36 products copied into the
 * instance's memory (tile rows padded to a multiple of 4), transformed, and the P rows of
 * Q outputs copied into y.
 */
export function simdWinograd43Output(inst: SimdInstance): typeof winograd43Output {
  return (M, n0, m, K, T, TH, TW, P, Q, y) => {
    const kernel = inst.wino43Out;
    if (!kernel || !(M instanceof Float32Array) || !(y instanceof Float32Array)) {
      winograd43Output(M, n0, m, K, T, TH, TW, P, Q, y);
      return;
    }
    const twq = Math.ceil(TW / 4), TWp = 4 * twq, planeF = TH * TWp, outW = 16 * twq, outF = 36 * planeF;
    const f = inst.reserve(outF + 4 * TH * outW);
    if (TWp !== TW) f.fill(0, 0, outF); // the padding tiles: computed, never copied out
    const Timg = TH * TW, KT = K * T, PQ = P * Q;
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < K; k++) {
        const t0 = k * T + j * Timg;
        for (let xi = 0; xi < 36; xi++) copyPlane(M, xi * KT + t0, TW, f, xi * planeF, TWp, TH);
        kernel(0, 4 * planeF, TH, twq, 4 * outF);
        const out = (n0 + j) * K * PQ + k * PQ;
        for (let p = 0; p < P; p++) copyRow(f, outF + p * outW, y, out + p * Q, Q);
      }
    }
  };
}

/**
 * F(4×4, 3×3)'s output-gradient transform (weight gradient) on this thread's instance,
 * under winograd43GradOutput's contract: per plane of dy, copied into a zero-padded plane
 * of the instance's memory, transformed four tiles at a time, the 36 planes copied into
 * Ŷ[36, K, T].
 */
export function simdWinograd43GradOutput(inst: SimdInstance): typeof winograd43GradOutput {
  return (dy, n0, m, K, T, TH, TW, P, Q, Y) => {
    const kernel = inst.wino43Dy;
    if (!kernel || !(dy instanceof Float32Array) || !(Y instanceof Float32Array)) {
      winograd43GradOutput(dy, n0, m, K, T, TH, TW, P, Q, Y);
      return;
    }
    const twq = Math.ceil(TW / 4), TWp = 4 * twq, wp = 16 * twq, planeF = TH * TWp;
    const padF = 4 * TH * wp;
    const f = inst.reserve(padF + 36 * planeF);
    f.fill(0, 0, padF); // rows and columns past P × Q stay zero
    const Timg = TH * TW, KT = K * T, PQ = P * Q;
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < K; k++) {
        const src = (n0 + j) * K * PQ + k * PQ;
        for (let p = 0; p < P; p++) copyRow(dy, src + p * Q, f, p * wp, Q);
        kernel(0, wp, TH, twq, 4 * padF, 4 * planeF);
        const t0 = k * T + j * Timg;
        for (let xi = 0; xi < 36; xi++) copyPlane(f, padF + xi * planeF, TWp, Y, xi * KT + t0, TW, TH);
      }
    }
  };
}

/** rows × n values from `from` (rows `fromLd` apart) to `to` (rows `toLd` apart); n = min(fromLd, toLd). */
function copyPlane(from: Float32Array, f: number, fromLd: number, to: Float32Array, t: number, toLd: number, rows: number): void {
  if (fromLd === toLd) {
    copyRow(from, f, to, t, rows * fromLd);
    return;
  }
  const n = Math.min(fromLd, toLd);
  for (let r = 0; r < rows; r++) copyRow(from, f + r * fromLd, to, t + r * toLd, n);
}

/** The three SIMD transforms of one instance, as a WinogradContext's input43, output43 and gradOutput43. */
export function simd43Transforms(inst: SimdInstance): Pick<WinogradContext, 'input43' | 'output43' | 'gradOutput43'> {
  return { input43: simdWinograd43Input(inst), output43: simdWinograd43Output(inst), gradOutput43: simdWinograd43GradOutput(inst) };
}
