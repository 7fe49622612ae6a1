// The two passes of resizeToRow (image.ts, the readable reference) in WebAssembly SIMD,
// reading the decoder's RGBA pixels directly and writing the channel-major row in the
// vertical pass. The arithmetic is the reference's, operation for operation, in float64
// lanes: each horizontal tap sum w0·p0 + w1·p1 + … in tap order, rounded to float32 (the
// reference's Float32Array), each vertical sum likewise, rounded to float32, then to the
// nearest byte with halves up (Math.round) and clamped to 0..255; so the bytes are the
// reference's, bit for bit. One pixel's four channels (R, G, B and the unused A) sit in two
// f64x2 lanes pairs, so one tap is two multiplies and two adds.
//
// Memory layout of one call (byte addresses, each part 16-aligned): the region's RGBA rows;
// the horizontal pass's output, nrows × size pixels of four float32; per output column and
// per output row a 16-byte entry (source byte offset, tap count, address of its float64
// weights, unused); the weights; the row, 3 planes of size² bytes; the per-channel sums of
// the row's bytes (4 int32).
import { i32, moduleBytes, op, uleb, v128, type Bytes, type FuncDef } from '../kernels/cpu/simd/asm.js';

// Opcodes asm.ts does not have (the WebAssembly core spec, binary format; SIMD prefix 0xfd).
const simd = (code: number): Bytes => [0xfd, ...uleb(code)];
const memarg = (align: number, offset = 0): Bytes => [align, ...uleb(offset)];
const x = {
  i32Load: (offset = 0): Bytes => [0x28, ...memarg(2, offset)],
  i32Store8: (offset = 0): Bytes => [0x3a, ...memarg(0, offset)],
  i32Ne: [0x47],
  i32Eqz: [0x45],
  /** A block with no result; `br 0` inside jumps to its end. */
  block: [0x02, 0x40],
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  v128Load32Zero: (offset = 0): Bytes => [...simd(0x5c), ...memarg(2, offset)],
  v128Load64Splat: (offset = 0): Bytes => [...simd(0x0a), ...memarg(3, offset)],
  v128Const: (bytes: number[]): Bytes => [...simd(0x0c), ...bytes],
  i8x16ExtractLaneU: (lane: number): Bytes => [...simd(0x16), lane],
  v128And: simd(0x4e),
  i16x8ExtendLowI8x16U: simd(0x89),
  i32x4ExtendLowI16x8U: simd(0xa9),
  i32x4Add: simd(0xae),
  /** Signed: one instruction where the unsigned one takes several (the values are bytes). */
  f64x2ConvertLowI32x4S: simd(0xfe),
  f32x4Floor: simd(0x68),
  f32x4Ge: simd(0x46),
  f32x4Pmin: simd(0xea),
  f32x4Pmax: simd(0xeb),
  f32x4ConvertI32x4S: simd(0xfa),
  f64x2PromoteLowF32x4: simd(0x5f),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
};

/** A v128 constant of four equal float32. */
function f32x4Splat(a: number): Bytes {
  return x.v128Const(Array.from(new Uint8Array(new Float32Array([a, a, a, a]).buffer)));
}

/** Bytes 8..15 moved to 0..7: lanes 2, 3 of four 32-bit lanes made lanes 0, 1. */
const LANES_23_OF_4 = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Bytes 4..7 moved to 0..3: lanes 2, 3 of eight 16-bit lanes made lanes 0, 1. */
const LANES_23_OF_8 = [4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7];
/** The low 8 bytes of the first vector, then the low 8 of the second. */
const LOWS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

const { localGet: get, localSet: set, localTee: tee, i32Const } = op;
/** local = local + k */
const addTo = (l: number, k: number | Bytes): Bytes[] => [get(l), typeof k === 'number' ? i32Const(k) : k, op.i32Add, set(l)];
/** local -= 1; loop again while it is not 0 (a do-while loop's closing test). */
const countDown = (l: number): Bytes[] => [get(l), i32Const(1), op.i32Sub, tee(l), op.brIf(0)];

/**
 * The taps of one output pixel: acc (locals rg, ba) = Σ_k w_k · pixel_k in tap order, the
 * four channels in two f64x2. `load(offset)` pushes a tap's four channels as a v128 from
 * the address on the stack plus offset; tap k is at local p + k·step, w_k at local wp +
 * 8k. `toF64` makes the first two channels of what `load` pushed float64; the byte shuffle
 * `upper` moves the last two to where the first two were. Three taps (the usual count when
 * the scale is near 1) and two are unrolled; other counts loop.
 */
function taps(p: number, step: number | Bytes, n: number, wp: number, rg: number, ba: number, v: number, w: number, load: (offset: number) => Bytes, upper: number[], toF64: Bytes[]): Bytes[] {
  // the first tap sets the sums (0 + w·p is w·p: every product here is ≥ +0)
  const tap = (addr: Bytes[], offset: number, wOffset: number, first: boolean): Bytes[] => [
    ...addr, load(offset), set(v),
    get(wp), x.v128Load64Splat(wOffset), set(w),
    ...(first ? [] : [get(rg)]), get(w), get(v), ...toF64, x.f64x2Mul, ...(first ? [] : [x.f64x2Add]), set(rg),
    ...(first ? [] : [get(ba)]), get(w), get(v), get(v), op.i8x16Shuffle(upper), ...toF64, x.f64x2Mul, ...(first ? [] : [x.f64x2Add]), set(ba),
  ];
  // tap k's address and load offset: a constant step goes into the offset, a local one is added k times
  const at = (k: number): [Bytes[], number] => (typeof step === 'number' ? [[get(p)], k * step] : [[get(p), ...new Array<Bytes[]>(k).fill([step, op.i32Add]).flat()], 0]);
  const unrolled = (count: number): Bytes[] => [
    x.block,
    get(n), i32Const(count), x.i32Ne, x.brIf(0),
    ...Array.from({ length: count }, (_, k) => tap(...at(k), 8 * k, k === 0)).flat(),
    x.br(1),
    op.end,
  ];
  return [
    x.block,
    ...unrolled(2), ...unrolled(3),
    ...tap([get(p)], 0, 0, true),
    ...addTo(p, step), ...addTo(wp, 8),
    get(n), i32Const(1), op.i32Sub, tee(n), x.i32Eqz, x.brIf(0),
    op.loop,
    ...tap([get(p)], 0, 0, false),
    ...addTo(p, step), ...addTo(wp, 8),
    ...countDown(n),
    op.end,
    op.end,
  ];
}

/**
 * hpass(src, stride, nrows, tab, outW, tmp): for each of nrows RGBA rows from src (stride
 * bytes apart) and each output column (its entry in tab), the four channels' tap sums as
 * float32 at tmp, 16 bytes per pixel.
 */
function hpass(): FuncDef {
  const [src, stride, nrows, tab, outW, tmp] = [0, 1, 2, 3, 4, 5];
  const [cx, t, p, n, wp] = [6, 7, 8, 9, 10];
  const [rg, ba, v, w] = [11, 12, 13, 14];
  return {
    name: 'hpass',
    params: [i32, i32, i32, i32, i32, i32],
    results: [],
    locals: [[5, i32], [4, v128]],
    body: [
      op.loop,
      get(outW), set(cx), get(tab), set(t),
      op.loop,
      get(src), get(t), x.i32Load(0), op.i32Add, set(p),
      get(t), x.i32Load(4), set(n),
      get(t), x.i32Load(8), set(wp),
      ...taps(p, 4, n, wp, rg, ba, v, w, (o) => [...x.v128Load32Zero(o), ...x.i16x8ExtendLowI8x16U], LANES_23_OF_8, [x.i32x4ExtendLowI16x8U, x.f64x2ConvertLowI32x4S]),
      get(tmp), get(rg), x.f32x4DemoteF64x2Zero, get(ba), x.f32x4DemoteF64x2Zero, op.i8x16Shuffle(LOWS), op.v128Store(),
      ...addTo(tmp, 16), ...addTo(t, 16),
      ...countDown(cx),
      op.end,
      ...addTo(src, get(stride)),
      ...countDown(nrows),
      op.end,
    ],
  };
}

/**
 * vpass(tmp, rowBytes, tab, size, outR, outG, outB, sums): for each output row (its entry
 * in tab: the byte offset of its first tmp row) and column, the tap sums down tmp's rows,
 * rounded as the reference rounds, one byte into each of the three planes; the int32 sums
 * of the R, G, B bytes (and the unused fourth) stored at sums.
 */
function vpass(): FuncDef {
  const [tmp, rowBytes, tab, size, outR, outG, outB, sums] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [co, cx, q0, q, n0, n, w0, wp] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [rg, ba, v, w, acc] = [16, 17, 18, 19, 20];
  // the pixel's four sums rounded to float32 (the reference's Math.fround), in one f32x4
  const f32Sums: Bytes[] = [get(rg), x.f32x4DemoteF64x2Zero, get(ba), x.f32x4DemoteF64x2Zero, op.i8x16Shuffle(LOWS)];
  // Math.round(v) clamped to 0..255, exactly in float32: floor(v) + (v - floor(v) >= 0.5);
  // v - floor(v) is exact where it matters (|v| < 2^23; a negative v gives 0 either way);
  // the comparison's all-ones lane converts to -1.0, so subtracting it adds one. The clamp
  // uses pmin/pmax (one instruction each; no NaN can occur). Adding 2^23 to the integer
  // 0..255 leaves it in the low byte of the float's bits (the mantissa's last bits), which
  // replaces a saturating float-to-int conversion.
  const rounded: Bytes[] = [
    set(v), get(v), x.f32x4Floor, tee(w),
    get(v), get(w), op.f32x4Sub, f32x4Splat(0.5), x.f32x4Ge, x.f32x4ConvertI32x4S, op.f32x4Sub,
    f32x4Splat(255), x.f32x4Pmin, f32x4Splat(0), x.f32x4Pmax,
    f32x4Splat(2 ** 23), op.f32x4Add,
  ];
  const lowBytes = x.v128Const(Array.from(new Uint8Array(new Int32Array([255, 255, 255, 255]).buffer)));
  return {
    name: 'vpass',
    params: [i32, i32, i32, i32, i32, i32, i32, i32],
    results: [],
    locals: [[8, i32], [5, v128]],
    body: [
      x.v128Const(new Array(16).fill(0)), set(acc),
      get(size), set(co),
      op.loop,
      get(tmp), get(tab), x.i32Load(0), op.i32Add, set(q0),
      get(tab), x.i32Load(4), set(n0),
      get(tab), x.i32Load(8), set(w0),
      get(size), set(cx),
      op.loop,
      get(q0), set(q), get(n0), set(n), get(w0), set(wp),
      ...taps(q, get(rowBytes), n, wp, rg, ba, v, w, (o) => op.v128Load(o), LANES_23_OF_4, [x.f64x2PromoteLowF32x4]),
      // v = the pixel's R, G, B, A as int32
      ...f32Sums, ...rounded, set(v),
      get(acc), get(v), lowBytes, x.v128And, x.i32x4Add, set(acc),
      get(outR), get(v), x.i8x16ExtractLaneU(0), x.i32Store8(),
      get(outG), get(v), x.i8x16ExtractLaneU(4), x.i32Store8(),
      get(outB), get(v), x.i8x16ExtractLaneU(8), x.i32Store8(),
      ...addTo(outR, 1), ...addTo(outG, 1), ...addTo(outB, 1), ...addTo(q0, 16),
      ...countDown(cx),
      op.end,
      ...addTo(tab, 16),
      ...countDown(co),
      op.end,
      get(sums), get(acc), op.v128Store(),
    ],
  };
}

/** The module's bytes (hpass and vpass over one imported memory). */
function resizeModuleBytes(): Uint8Array {
  return moduleBytes([hpass(), vpass()]);
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where the engine has no WebAssembly SIMD. */
export function resizeModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (typeof WebAssembly === 'object') {
    const bytes = resizeModuleBytes();
    if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}
