// The gemm macro-kernel in WebAssembly SIMD, emitted at start-up by asm.ts.
//
// It computes one cache block of C (in the instance's own memory, row stride ldc bytes):
//   C[mTiles·MR, nTiles·NR] += Apack · Bpack
// where Apack is an mc × kc block of op(A) packed as mTiles slivers of MR × kc and Bpack a
// kc × nc block of op(B) packed as nTiles slivers of kc × NR (the packing, in gemm.ts, pads
// partial slivers with zeros). Loop order (Goto & van de Geijn):
//
//   for j in nTiles            one kc × NR sliver of Bpack (kc·NR·4 bytes: 8 KB at kc = 256) stays in L1
//     for i in mTiles          one MR × kc sliver of Apack, streamed from L2
//       micro-kernel: the MR × NR tile of C, held in MR·NR/4 v128 registers over all kc steps
//
// The register tile. x64 gives V8 16 xmm registers, one of them its scratch register. Per
// step p of kc the micro-kernel loads the NR values of Bpack row p as NR/4 vectors, then
// for each of the MR rows broadcasts one value of Apack (v128.load32_splat: vbroadcastss)
// and does NR/4 multiply-adds into that row's accumulators:
//
//   acc[r][v] += splat(a[p·MR + r]) · b[p·NR + 4v .. 4v + 3]      r < MR, v < NR/4
//
// MR × NR = 4 × 8: 8 accumulators + 2 B vectors + 1 broadcast = 11 registers, 8
// multiply-adds per 6 loads. Larger tiles do more work per load on paper (6 × 8: 12 per 8,
// 15 registers) but V8's register allocator then spills, and they run slower (the tiles
// compared are in bench/README.md).
//
// With relaxed SIMD the multiply-add is f32x4.relaxed_madd (one vfmadd on hardware with
// FMA: one rounding instead of two, within the 1e-5 tolerance the tests hold it to);
// without, f32x4.mul then f32x4.add.
import { i32, moduleBytes, op, v128, type Bytes } from './asm.js';

export interface TileShape {
  MR: number;
  NR: number;
}

export const DEFAULT_TILE: TileShape = { MR: 4, NR: 8 };

/** The module's bytes: it imports env.memory and exports `macro(a, b, c, mTiles, nTiles, kc, ldc)` (pointers and ldc in bytes). */
export function gemmModuleBytes(relaxed: boolean, tile: TileShape = DEFAULT_TILE): Uint8Array {
  const { MR, NR } = tile;
  const NV = NR / 4;
  if (!Number.isInteger(NV) || NV < 1 || MR < 1 || MR * NV + NV + 1 > 16) throw new Error(`gemm tile ${MR}×${NR}: NR must be a multiple of 4 and the tile must fit 16 registers`);
  // Parameters 0..6, then the i32 locals, then the v128 locals.
  const [a, b, c, mTiles, nTiles, kc, ldc] = [0, 1, 2, 3, 4, 5, 6];
  const [j, i, k, pa, pb, bCol, cCol, cp] = [7, 8, 9, 10, 11, 12, 13, 14];
  const V0 = 15;
  const acc = (r: number, v: number) => V0 + r * NV + v;
  const bv = (v: number) => V0 + MR * NV + v;
  const av = V0 + MR * NV + NV;
  const nV = MR * NV + NV + 1;
  /** Pointer to row r of the C tile: cp + r·ldc. */
  const cRow = (r: number): Bytes[] => (r === 0 ? [op.localGet(cp)] : [op.localGet(cp), op.localGet(ldc), op.i32Const(r), op.i32Mul, op.i32Add]);
  const madd = (r: number, v: number): Bytes[] => relaxed
    ? [op.localGet(av), op.localGet(bv(v)), op.localGet(acc(r, v)), op.f32x4RelaxedMadd, op.localSet(acc(r, v))]
    : [op.localGet(av), op.localGet(bv(v)), op.f32x4Mul, op.localGet(acc(r, v)), op.f32x4Add, op.localSet(acc(r, v))];
  const times = <T>(n: number, f: (x: number) => T[]): T[] => Array.from({ length: n }, (_, x) => f(x)).flat();
  const body: Bytes[] = [
    op.localGet(nTiles), op.localSet(j),
    op.localGet(b), op.localSet(bCol),
    op.localGet(c), op.localSet(cCol),
    op.loop, // for each B sliver (column tile of C)
    op.localGet(mTiles), op.localSet(i),
    op.localGet(a), op.localSet(pa),
    op.localGet(cCol), op.localSet(cp),
    op.loop, // for each A sliver (row tile of C)
    // load the MR × NR tile of C into the accumulators
    ...times(MR, (r) => times(NV, (v) => [...cRow(r), op.v128Load(16 * v), op.localSet(acc(r, v))])),
    op.localGet(bCol), op.localSet(pb),
    op.localGet(kc), op.localSet(k),
    op.loop, // for p in kc: one rank-1 update of the tile
    ...times(NV, (v) => [op.localGet(pb), op.v128Load(16 * v), op.localSet(bv(v))]),
    ...times(MR, (r) => [op.localGet(pa), op.v128Load32Splat(4 * r), op.localSet(av), ...times(NV, (v) => madd(r, v))]),
    op.localGet(pa), op.i32Const(4 * MR), op.i32Add, op.localSet(pa),
    op.localGet(pb), op.i32Const(4 * NR), op.i32Add, op.localSet(pb),
    op.localGet(k), op.i32Const(1), op.i32Sub, op.localTee(k), op.brIf(0),
    op.end,
    // store the tile; pa now points at the next A sliver
    ...times(MR, (r) => times(NV, (v) => [...cRow(r), op.localGet(acc(r, v)), op.v128Store(16 * v)])),
    op.localGet(cp), op.localGet(ldc), op.i32Const(MR), op.i32Mul, op.i32Add, op.localSet(cp),
    op.localGet(i), op.i32Const(1), op.i32Sub, op.localTee(i), op.brIf(0),
    op.end,
    op.localGet(bCol), op.localGet(kc), op.i32Const(4 * NR), op.i32Mul, op.i32Add, op.localSet(bCol),
    op.localGet(cCol), op.i32Const(4 * NR), op.i32Add, op.localSet(cCol),
    op.localGet(j), op.i32Const(1), op.i32Sub, op.localTee(j), op.brIf(0),
    op.end,
  ];
  return moduleBytes([{
    name: 'macro', params: [i32, i32, i32, i32, i32, i32, i32], results: [],
    locals: [[8, i32], [nV, v128]], body,
  }]);
}

/** The exported macro-kernel. mTiles, nTiles, kc ≥ 1. */
export type MacroKernel = (a: number, b: number, c: number, mTiles: number, nTiles: number, kc: number, ldc: number) => void;
