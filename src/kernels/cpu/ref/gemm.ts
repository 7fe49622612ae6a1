// General matrix multiply, row-major: C = alpha·op(A)·op(B) + beta·C,
// op(A): [M, K], op(B): [K, N], C: [M, N] (op = identity or transpose).
//
// A cache-blocked, register-blocked gemm in the style of Goto & van de Geijn ("Anatomy of
// high-performance matrix multiplication", 2008), in plain TypeScript.
//
// Blocking scheme (MR = NR = 4 fixed by the micro-kernel; MC, KC, NC configurable, by
// default 64, 256, 1024; sizes below are for float64 packed values at those defaults):
//
//   for jc in 0..N step NC                 C[:, jc:jc+nc] — a column panel of C
//     for pc in 0..K step KC               one slice of the shared dimension, kc deep
//       pack op(B)[pc:pc+kc, jc:jc+nc] → bPack   (kc × nc, ~2 MB: stays in L3 / L2)
//       for ic in 0..M step MC
//         pack op(A)[ic:ic+mc, pc:pc+kc] → aPack (mc × kc, ~128 KB: stays in L2)
//         for jr in 0..nc step NR            one kc × NR sliver of bPack (8 KB: stays in L1)
//           for ir in 0..mc step MR          one MR × kc sliver of aPack, streamed from L2
//             micro-kernel: the MR × NR tile C[ic+ir.., jc+jr..] += aSliver · bSliver,
//             16 sums held in local variables (registers) across the whole kc loop
//
// Packing does three jobs: (1) it handles the four transpose cases, so the micro-kernel only
// ever sees one layout; (2) it lays each sliver out in exactly the order the micro-kernel
// reads it (aPack: for each p, MR consecutive values of one column of op(A); bPack: for each
// p, NR consecutive values of one row of op(B)), so the kernel reads memory sequentially;
// (3) it pads partial slivers (M or N not a multiple of 4) with zeros, so the kernel always
// computes a full 4 × 4 tile; the write-back stores only the rows and columns that exist.
//
// Packed buffers are always Float64Array, whatever the input type, and are reused across
// calls. JavaScript arithmetic is in float64 anyway; reading a Float32Array element costs a
// float→double conversion on every load, so packing once into float64 is faster for
// float32 inputs too (bench/README.md, History), and it keeps the micro-kernel
// monomorphic: it only ever sees Float64Array,
// whether the caller passed float32 data or float64 data (gradient checker).
// Only the O(M·K + K·N) packing and the O(M·N) write-back touch the caller's arrays.
//
// Small matrices (the convolutions of narrow models: M = 8..64 filters, K = 9..576, or
// K = 8..64 for the input gradient) spend a large share outside the micro-kernel, so:
// full 4 × 4 tiles are written straight into C by the micro-kernel (microKernel4x4C; the
// tile buffer + storeTile remain for ragged edges), and the packing loops copy a full
// sliver 4 values per step instead of looping over its 4 rows or columns. A smaller nc for
// small M does not help: the packed panel is not the bottleneck. (The figures behind both
// are in bench/README.md, History.)
//
// The 4 × 4 tile: 16 accumulators + 4 values of op(A) + 1 of op(B) slightly exceed the ~15
// double registers V8 allocates on x64 (a few spill to the stack, cheaply). Other tiles
// (4 × 8, 2 × 8, 3 × 4, 3 × 3, 2 × 4) were no faster in the full gemm, so the simplest
// symmetric tile stays.
import type { FloatArray } from '../../backend.js';
import { ShapeError, ValueError } from '../../../util/errors.js';

/** Micro-tile height and width (fixed: the micro-kernel below is written for 4 × 4). */
const MR = 4;
const NR = 4;

/** Cache-block sizes. mc must be a multiple of MR and nc of NR. */
export interface GemmBlocking {
  mc: number;
  kc: number;
  nc: number;
}

const DEFAULT_BLOCKING: GemmBlocking = { mc: 64, kc: 256, nc: 1024 };
let blocking: GemmBlocking = { ...DEFAULT_BLOCKING };

/**
 * Changes the cache-block sizes (tests use tiny blocks so small matrices cross block
 * boundaries; the bench may tune them). Returns the previous setting; `setGemmBlocking()`
 * with no argument restores the defaults.
 */
export function setGemmBlocking(b: Partial<GemmBlocking> = DEFAULT_BLOCKING): GemmBlocking {
  const prev = blocking;
  const next = { ...blocking, ...b };
  const ok = (v: number, m: number) => Number.isInteger(v) && v > 0 && v % m === 0;
  if (!ok(next.mc, MR) || !ok(next.kc, 1) || !ok(next.nc, NR)) {
    throw new ValueError(`gemm blocking: mc must be a positive multiple of ${MR}, nc of ${NR}, kc positive; got mc=${next.mc}, kc=${next.kc}, nc=${next.nc}`);
  }
  blocking = next;
  return prev;
}

export function getGemmBlocking(): GemmBlocking {
  return { ...blocking };
}

// Reused packing buffers (grown on demand) and the micro-kernel's output tile.
let aPack = new Float64Array(0);
let bPack = new Float64Array(0);
const tile = new Float64Array(MR * NR);

export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
): void {
  checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
  if (M === 0 || N === 0) return;
  if (alpha === 0 || K === 0) {
    scaleC(M, N, beta, C, cOffset, ldc);
    return;
  }
  const { mc: MC, kc: KC, nc: NC } = blocking;
  const aSize = Math.min(MC, roundUp(M, MR)) * Math.min(KC, K);
  const bSize = Math.min(KC, K) * Math.min(NC, roundUp(N, NR));
  if (aPack.length < aSize) aPack = new Float64Array(aSize);
  if (bPack.length < bSize) bPack = new Float64Array(bSize);
  const ap = aPack, bp = bPack, t = tile;

  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      // The first slice of K applies beta to C; later slices accumulate onto it.
      const betaHere = pc === 0 ? beta : 1;
      packB(transB, B, bOffset, ldb, pc, kc, jc, nc, bp);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packA(transA, A, aOffset, lda, ic, mc, pc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            // Slivers start at ir·kc in aPack (MR values per p) and jr·kc in bPack (NR per p).
            const mr = Math.min(MR, mc - ir), c0 = cOffset + (ic + ir) * ldc + jc + jr;
            if (mr === 4 && nr === 4) microKernel4x4C(kc, ap, ir * kc, bp, jr * kc, alpha, betaHere, C, c0, ldc);
            else {
              microKernel4x4(kc, ap, ir * kc, bp, jr * kc, t);
              storeTile(t, mr, nr, alpha, betaHere, C, c0, ldc);
            }
          }
        }
      }
    }
  }
}

/**
 * aPack ← op(A)[i0 : i0+mc, p0 : p0+kc] as ⌈mc/MR⌉ slivers of MR × kc, each stored
 * p-major: sliver s, element (r, p) at s·MR·kc + p·MR + r. Rows past mc are zero.
 */
function packA(
  transA: boolean, A: FloatArray, aOffset: number, lda: number,
  i0: number, mc: number, p0: number, kc: number, ap: Float64Array,
): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const base = ir * kc;
    const mr = Math.min(MR, mc - ir);
    if (transA) {
      // op(A)(i, p) = A[p·lda + i]: for each p the MR values are contiguous in A.
      if (mr === 4) {
        let src = aOffset + p0 * lda + i0 + ir, dst = base;
        const end = base + 4 * kc;
        while (dst < end) {
          ap[dst] = A[src]!; ap[dst + 1] = A[src + 1]!; ap[dst + 2] = A[src + 2]!; ap[dst + 3] = A[src + 3]!;
          dst += 4; src += lda;
        }
        continue;
      }
      for (let p = 0; p < kc; p++) {
        const src = aOffset + (p0 + p) * lda + i0 + ir;
        const dst = base + p * MR;
        let r = 0;
        for (; r < mr; r++) ap[dst + r] = A[src + r]!;
        for (; r < MR; r++) ap[dst + r] = 0;
      }
    } else {
      // op(A)(i, p) = A[i·lda + p]: read each row of A sequentially, write with stride MR.
      if (mr === 4) {
        const s0 = aOffset + (i0 + ir) * lda + p0, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda;
        for (let p = 0, dst = base; p < kc; p++, dst += 4) {
          ap[dst] = A[s0 + p]!; ap[dst + 1] = A[s1 + p]!; ap[dst + 2] = A[s2 + p]!; ap[dst + 3] = A[s3 + p]!;
        }
        continue;
      }
      let r = 0;
      for (; r < mr; r++) {
        const src = aOffset + (i0 + ir + r) * lda + p0;
        for (let p = 0; p < kc; p++) ap[base + p * MR + r] = A[src + p]!;
      }
      for (; r < MR; r++) for (let p = 0; p < kc; p++) ap[base + p * MR + r] = 0;
    }
  }
}

/**
 * bPack ← op(B)[p0 : p0+kc, j0 : j0+nc] as ⌈nc/NR⌉ slivers of kc × NR, each stored
 * row by row: sliver s, element (p, c) at s·NR·kc + p·NR + c. Columns past nc are zero.
 */
function packB(
  transB: boolean, B: FloatArray, bOffset: number, ldb: number,
  p0: number, kc: number, j0: number, nc: number, bp: Float64Array,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const base = jr * kc;
    const nr = Math.min(NR, nc - jr);
    if (transB) {
      // op(B)(p, j) = B[j·ldb + p]: read each row of B (a column of op(B)) sequentially.
      if (nr === 4) {
        const s0 = bOffset + (j0 + jr) * ldb + p0, s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb;
        for (let p = 0, dst = base; p < kc; p++, dst += 4) {
          bp[dst] = B[s0 + p]!; bp[dst + 1] = B[s1 + p]!; bp[dst + 2] = B[s2 + p]!; bp[dst + 3] = B[s3 + p]!;
        }
        continue;
      }
      let c = 0;
      for (; c < nr; c++) {
        const src = bOffset + (j0 + jr + c) * ldb + p0;
        for (let p = 0; p < kc; p++) bp[base + p * NR + c] = B[src + p]!;
      }
      for (; c < NR; c++) for (let p = 0; p < kc; p++) bp[base + p * NR + c] = 0;
    } else {
      // op(B)(p, j) = B[p·ldb + j]: for each p the NR values are contiguous in B.
      if (nr === 4) {
        let src = bOffset + p0 * ldb + j0 + jr, dst = base;
        const end = base + 4 * kc;
        while (dst < end) {
          bp[dst] = B[src]!; bp[dst + 1] = B[src + 1]!; bp[dst + 2] = B[src + 2]!; bp[dst + 3] = B[src + 3]!;
          dst += 4; src += ldb;
        }
        continue;
      }
      for (let p = 0; p < kc; p++) {
        const src = bOffset + (p0 + p) * ldb + j0 + jr;
        const dst = base + p * NR;
        let c = 0;
        for (; c < nr; c++) bp[dst + c] = B[src + c]!;
        for (; c < NR; c++) bp[dst + c] = 0;
      }
    }
  }
}

/**
 * The micro-kernel: t[4 × 4] = Σ_p a(:, p) · b(p, :) over kc steps, an outer product per
 * step. a is an MR × kc sliver of aPack from index ai (4 values per p), b a kc × NR sliver
 * of bPack from bi (4 values per p). Each step loads 4 values of a, then streams the 4
 * values of b one at a time, doing 16 multiply-adds into the 16 local accumulators.
 * The `| 0` on index arithmetic tells V8 the sums stay int32, which drops an overflow check
 * per index; indices are far below 2^31 (buffers are ~10^5 long).
 * The loop uses the literal 4 rather than the module constants MR / NR: V8 reloads a module
 * binding from the module context on every read inside the loop.
 */
function microKernel4x4(kc: number, a: Float64Array, ai: number, b: Float64Array, bi: number, t: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = (ai + 4 * kc) | 0;
  while (ai < end) {
    const a0 = a[ai]!, a1 = a[(ai + 1) | 0]!, a2 = a[(ai + 2) | 0]!, a3 = a[(ai + 3) | 0]!;
    let bv = b[bi]!;
    c00 += a0 * bv; c10 += a1 * bv; c20 += a2 * bv; c30 += a3 * bv;
    bv = b[(bi + 1) | 0]!;
    c01 += a0 * bv; c11 += a1 * bv; c21 += a2 * bv; c31 += a3 * bv;
    bv = b[(bi + 2) | 0]!;
    c02 += a0 * bv; c12 += a1 * bv; c22 += a2 * bv; c32 += a3 * bv;
    bv = b[(bi + 3) | 0]!;
    c03 += a0 * bv; c13 += a1 * bv; c23 += a2 * bv; c33 += a3 * bv;
    ai = (ai + 4) | 0; // MR
    bi = (bi + 4) | 0; // NR
  }
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
}

/** microKernel4x4 writing the full 4 × 4 tile straight into C: C = alpha·tile + beta·C (beta 0: C not read). */
function microKernel4x4C(kc: number, a: Float64Array, ai: number, b: Float64Array, bi: number, alpha: number, beta: number, C: FloatArray, c0: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = (ai + 4 * kc) | 0;
  while (ai < end) {
    const a0 = a[ai]!, a1 = a[(ai + 1) | 0]!, a2 = a[(ai + 2) | 0]!, a3 = a[(ai + 3) | 0]!;
    let bv = b[bi]!;
    c00 += a0 * bv; c10 += a1 * bv; c20 += a2 * bv; c30 += a3 * bv;
    bv = b[(bi + 1) | 0]!;
    c01 += a0 * bv; c11 += a1 * bv; c21 += a2 * bv; c31 += a3 * bv;
    bv = b[(bi + 2) | 0]!;
    c02 += a0 * bv; c12 += a1 * bv; c22 += a2 * bv; c32 += a3 * bv;
    bv = b[(bi + 3) | 0]!;
    c03 += a0 * bv; c13 += a1 * bv; c23 += a2 * bv; c33 += a3 * bv;
    ai = (ai + 4) | 0;
    bi = (bi + 4) | 0;
  }
  const r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
  if (alpha !== 1) {
    c00 *= alpha; c01 *= alpha; c02 *= alpha; c03 *= alpha;
    c10 *= alpha; c11 *= alpha; c12 *= alpha; c13 *= alpha;
    c20 *= alpha; c21 *= alpha; c22 *= alpha; c23 *= alpha;
    c30 *= alpha; c31 *= alpha; c32 *= alpha; c33 *= alpha;
  }
  if (beta === 0) {
    C[c0] = c00; C[c0 + 1] = c01; C[c0 + 2] = c02; C[c0 + 3] = c03;
    C[r1] = c10; C[r1 + 1] = c11; C[r1 + 2] = c12; C[r1 + 3] = c13;
    C[r2] = c20; C[r2 + 1] = c21; C[r2 + 2] = c22; C[r2 + 3] = c23;
    C[r3] = c30; C[r3 + 1] = c31; C[r3 + 2] = c32; C[r3 + 3] = c33;
  } else if (beta === 1) {
    C[c0] += c00; C[c0 + 1] += c01; C[c0 + 2] += c02; C[c0 + 3] += c03;
    C[r1] += c10; C[r1 + 1] += c11; C[r1 + 2] += c12; C[r1 + 3] += c13;
    C[r2] += c20; C[r2 + 1] += c21; C[r2 + 2] += c22; C[r2 + 3] += c23;
    C[r3] += c30; C[r3 + 1] += c31; C[r3 + 2] += c32; C[r3 + 3] += c33;
  } else {
    C[c0] = c00 + beta * C[c0]!; C[c0 + 1] = c01 + beta * C[c0 + 1]!; C[c0 + 2] = c02 + beta * C[c0 + 2]!; C[c0 + 3] = c03 + beta * C[c0 + 3]!;
    C[r1] = c10 + beta * C[r1]!; C[r1 + 1] = c11 + beta * C[r1 + 1]!; C[r1 + 2] = c12 + beta * C[r1 + 2]!; C[r1 + 3] = c13 + beta * C[r1 + 3]!;
    C[r2] = c20 + beta * C[r2]!; C[r2 + 1] = c21 + beta * C[r2 + 1]!; C[r2 + 2] = c22 + beta * C[r2 + 2]!; C[r2 + 3] = c23 + beta * C[r2 + 3]!;
    C[r3] = c30 + beta * C[r3]!; C[r3 + 1] = c31 + beta * C[r3 + 1]!; C[r3 + 2] = c32 + beta * C[r3 + 2]!; C[r3 + 3] = c33 + beta * C[r3 + 3]!;
  }
}

/** C[mr × nr tile at c0] = alpha·t + beta·C; beta = 0 writes without reading C. */
function storeTile(
  t: Float64Array, mr: number, nr: number, alpha: number, beta: number,
  C: FloatArray, c0: number, ldc: number,
): void {
  for (let r = 0; r < mr; r++) {
    const row = c0 + r * ldc, tr = r * NR;
    if (beta === 0) for (let c = 0; c < nr; c++) C[row + c] = alpha * t[tr + c]!;
    else if (beta === 1) for (let c = 0; c < nr; c++) C[row + c] += alpha * t[tr + c]!;
    else for (let c = 0; c < nr; c++) C[row + c] = alpha * t[tr + c]! + beta * C[row + c]!;
  }
}

/** C ← beta·C (the whole product vanishes: alpha = 0 or K = 0). */
function scaleC(M: number, N: number, beta: number, C: FloatArray, cOffset: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    const row = cOffset + i * ldc;
    if (beta === 0) C.fill(0, row, row + N);
    else for (let j = 0; j < N; j++) C[row + j]! *= beta;
  }
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** O(1) checks of sizes, leading dimensions and array extents, with a readable error (the fast backend makes the same checks). */
export function checkArgs(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  C: FloatArray, cOffset: number, ldc: number,
): void {
  const call = `gemm(transA=${transA}, transB=${transB}, M=${M}, N=${N}, K=${K})`;
  for (const [name, v] of [['M', M], ['N', N], ['K', K]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${call}: ${name} must be a non-negative integer`);
  }
  const check = (name: string, X: FloatArray, off: number, ld: number, rows: number, cols: number) => {
    if (rows === 0 || cols === 0) return;
    if (!Number.isInteger(off) || off < 0) throw new ValueError(`${call}: ${name} offset ${off} must be a non-negative integer`);
    if (!Number.isInteger(ld) || ld < cols) throw new ShapeError(`${call}: ld${name.toLowerCase()}=${ld} is smaller than the ${cols} columns ${name} is stored with`);
    const last = off + (rows - 1) * ld + cols;
    if (last > X.length) throw new ShapeError(`${call}: ${name} stored as [${rows}, ${cols}] with ld=${ld} at offset ${off} needs ${last} elements, array has ${X.length}`);
  };
  check('A', A, aOffset, lda, transA ? K : M, transA ? M : K);
  check('B', B, bOffset, ldb, transB ? N : K, transB ? K : N);
  check('C', C, cOffset, ldc, M, N);
}
