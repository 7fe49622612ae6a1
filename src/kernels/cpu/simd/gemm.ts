// The fast backend's float32 gemm: C = alpha·op(A)·op(B) + beta·C, row-major, the same
// contract as the reference (src/kernels/cpu/ref/gemm.ts), computed by the WebAssembly SIMD
// macro-kernel (simd-gemm.ts) and split into tasks that threads take one at a time.
//
// C is cut into a grid of blocks, mh rows × nw columns (mh a multiple of MR, nw of NR); one
// task computes one block over the whole of K:
//
//   for pc in 0..K step KC                     one kc-deep slice of the shared dimension
//     pack op(A)[block rows, pc:pc+kc]  → aPack (≤ 160 × 256 floats: 160 KB, stays in L2)
//     pack op(B)[pc:pc+kc, block cols]  → bPack (≤ 256 × 512 floats: 512 KB, L2 / L3)
//     macro-kernel: cBlock += aPack · bPack     (cBlock in the instance's memory)
//   C[block] = alpha·cBlock + beta·C[block]     (beta = 0: C is not read)
//
// Packing in JavaScript copies from the caller's buffers (Float32Arrays over shared memory,
// which every thread can read) into the thread's own WebAssembly memory, laid out as the
// micro-kernel reads it: aPack as slivers of MR rows, p-major (element (r, p) of sliver s
// at s·MR·kc + p·MR + r); bPack as slivers of NR columns, p-major (element (p, c) at
// s·NR·kc + p·NR + c); partial slivers are padded with zeros. Packing handles the four
// transpose cases, so the kernel sees one layout. Each thread's instance owns a small
// memory of packed panels, not the tensors: tensors stay in JavaScript shared buffers,
// so the 4 GiB limit of a 32-bit WebAssembly memory never bounds the model's size.
//
// Tasks are handed out dynamically (an atomic counter, pool.ts): on this 2-core machine
// the other core is often busy, and whichever thread is free takes the next block.
import type { SimdInstance } from './simd.js';

/** Depth of one packed slice of K. */
const KC = 256;

export interface GemmJob {
  kind: 'gemm';
  transA: boolean; transB: boolean; M: number; N: number; K: number; alpha: number;
  A: Float32Array; aOffset: number; lda: number;
  B: Float32Array; bOffset: number; ldb: number;
  beta: number; C: Float32Array; cOffset: number; ldc: number;
  /** Block height and width, and the number of blocks down M. */
  mh: number; nw: number; tilesM: number;
  /**
   * The epilogue of a dense layer (Backend.linearForward): after each block of C is stored,
   * C[i, j] += bias[j], then max(0, ·) when relu, on those rows while they are in cache.
   */
  bias?: Float32Array | null;
  relu?: boolean;
}

/**
 * Largest block: rows (in tiles of MR) and columns. The choice is not sensitive: nearby
 * sizes time the same (bench/README.md).
 */
const gemmBlocks = { mTiles: 40, nw: 512 };

/** Splits C into blocks: as large as the caches allow, but at least ~3 per thread when there are several. */
export function planGemm(M: number, N: number, MR: number, NR: number, threads: number): { mh: number; nw: number; tilesM: number; tasks: number } {
  const up = (n: number, m: number) => Math.ceil(n / m) * m;
  let mh = Math.min(up(M, MR), MR * gemmBlocks.mTiles), nw = Math.min(up(N, NR), gemmBlocks.nw);
  const count = () => Math.ceil(M / mh) * Math.ceil(N / nw);
  while (threads > 1 && count() < 3 * threads) {
    if (nw >= 2 * 64 && nw >= mh) nw = up(nw / 2, NR);
    else if (mh >= 2 * 4 * MR) mh = up(mh / 2, MR);
    else if (nw >= 2 * 64) nw = up(nw / 2, NR);
    else break;
  }
  const tilesM = Math.ceil(M / mh);
  return { mh, nw, tilesM, tasks: tilesM * Math.ceil(N / nw) };
}

/** Computes block t of the job with this thread's instance. */
export function gemmTask(inst: SimdInstance, job: GemmJob, t: number): void {
  const { MR, NR } = inst;
  const { M, N, K, mh, nw, tilesM } = job;
  const i0 = (t % tilesM) * mh, j0 = Math.floor(t / tilesM) * nw;
  const m = Math.min(mh, M - i0), n = Math.min(nw, N - j0);
  const mT = Math.ceil(m / MR), nT = Math.ceil(n / NR), ldcF = nT * NR;
  const kcMax = Math.min(KC, K);
  // Memory layout (floats): aPack | bPack | cBlock
  const aP = 0, bP = aP + mT * MR * kcMax, cB = bP + kcMax * ldcF;
  const f = inst.reserve(cB + mT * MR * ldcF);
  const { C, alpha, beta, ldc, cOffset } = job;
  f.fill(0, cB, cB + mT * MR * ldcF);
  // C += op(A)·op(B) (beta = alpha = 1: gradients accumulated over chunks) starts the block
  // from C itself, so that both copies are native memcpys rather than a JavaScript loop of
  // multiply-adds (which cost as much as the kernel when K is small).
  const accumulate = alpha === 1 && beta === 1;
  if (accumulate) for (let r = 0; r < m; r++) copyRow(C, cOffset + (i0 + r) * ldc + j0, f, cB + r * ldcF, n);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    packA(job.transA, job.A, job.aOffset, job.lda, i0, m, pc, kc, f, aP, MR);
    packB(job.transB, job.B, job.bOffset, job.ldb, pc, kc, j0, n, f, bP, NR);
    inst.macro(aP * 4, bP * 4, cB * 4, mT, nT, kc, ldcF * 4);
  }
  // C[block] = alpha·cBlock + beta·C[block]
  for (let r = 0; r < m; r++) {
    const src = cB + r * ldcF, dst = cOffset + (i0 + r) * ldc + j0;
    if (accumulate || (beta === 0 && alpha === 1)) copyRow(f, src, C, dst, n);
    else if (beta === 0) {
      for (let c = 0; c < n; c++) C[dst + c] = alpha * f[src + c]!;
    } else {
      for (let c = 0; c < n; c++) C[dst + c] = alpha * f[src + c]! + beta * C[dst + c]!;
    }
    if (job.bias || job.relu) rowEpilogue(C, dst, n, job.bias ? job.bias : null, j0, job.relu === true);
  }
}

/**
 * C[dst .. dst+n) += bias[j0 ..] (each sum stored, so rounded to float32), then the ReLU of
 * the stored values as the reference writes it (NaN passing through): the bits of biasAdd
 * and unary('relu') run after the gemm.
 */
function rowEpilogue(C: Float32Array, dst: number, n: number, bias: Float32Array | null, j0: number, relu: boolean): void {
  if (bias) for (let c = 0; c < n; c++) C[dst + c] = C[dst + c]! + bias[j0 + c]!;
  if (relu) {
    for (let c = dst; c < dst + n; c++) {
      const v = C[c]!;
      C[c] = v > 0 || v !== v ? v : 0;
    }
  }
}

/** to[t .. t+n) ← from[f .. f+n): native memcpy for long rows, a loop for short ones (a subarray costs an allocation). */
export function copyRow(from: Float32Array, f: number, to: Float32Array, t: number, n: number): void {
  if (n >= 64) to.set(from.subarray(f, f + n), t);
  else for (let c = 0; c < n; c++) to[t + c] = from[f + c]!;
}

/** ap[base ..] ← op(A)[i0 : i0+m, p0 : p0+kc] as slivers of MR rows, p-major, zero-padded. */
function packA(transA: boolean, A: Float32Array, aOffset: number, lda: number, i0: number, m: number, p0: number, kc: number, ap: Float32Array, base: number, MR: number): void {
  for (let ir = 0; ir < m; ir += MR) {
    const s = base + ir * kc, mr = Math.min(MR, m - ir);
    if (mr < MR) ap.fill(0, s, s + MR * kc);
    if (transA && mr === 4 && MR === 4) {
      // op(A)(i, p) = A[p·lda + i]: the four values of one p are contiguous in A.
      for (let p = 0, src = aOffset + p0 * lda + i0 + ir, dst = s; p < kc; p++, src += lda, dst += 4) {
        ap[dst] = A[src]!; ap[dst + 1] = A[src + 1]!; ap[dst + 2] = A[src + 2]!; ap[dst + 3] = A[src + 3]!;
      }
    } else if (transA) {
      // op(A)(i, p) = A[p·lda + i]: the MR values of one p are contiguous in A.
      for (let p = 0; p < kc; p++) {
        const src = aOffset + (p0 + p) * lda + i0 + ir, dst = s + p * MR;
        for (let r = 0; r < mr; r++) ap[dst + r] = A[src + r]!;
      }
    } else if (mr === 4 && MR === 4) {
      // op(A)(i, p) = A[i·lda + p]: four row streams, one sequential write stream.
      const s0 = aOffset + (i0 + ir) * lda + p0, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda;
      for (let p = 0, dst = s; p < kc; p++, dst += 4) {
        ap[dst] = A[s0 + p]!; ap[dst + 1] = A[s1 + p]!; ap[dst + 2] = A[s2 + p]!; ap[dst + 3] = A[s3 + p]!;
      }
    } else {
      // op(A)(i, p) = A[i·lda + p]: read each row sequentially, write with stride MR.
      for (let r = 0; r < mr; r++) {
        const src = aOffset + (i0 + ir + r) * lda + p0;
        for (let p = 0, dst = s + r; p < kc; p++, dst += MR) ap[dst] = A[src + p]!;
      }
    }
  }
}

/** bp[base ..] ← op(B)[p0 : p0+kc, j0 : j0+n] as slivers of NR columns, p-major, zero-padded. */
function packB(transB: boolean, B: Float32Array, bOffset: number, ldb: number, p0: number, kc: number, j0: number, n: number, bp: Float32Array, base: number, NR: number): void {
  for (let jr = 0; jr < n; jr += NR) {
    const s = base + jr * kc, nr = Math.min(NR, n - jr);
    if (nr < NR) bp.fill(0, s, s + NR * kc);
    if (transB && nr === 8 && NR === 8) {
      // op(B)(p, j) = B[j·ldb + p]: eight row streams of B, one sequential write stream.
      const s0 = bOffset + (j0 + jr) * ldb + p0, s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb;
      const s4 = s3 + ldb, s5 = s4 + ldb, s6 = s5 + ldb, s7 = s6 + ldb;
      for (let p = 0, dst = s; p < kc; p++, dst += 8) {
        bp[dst] = B[s0 + p]!; bp[dst + 1] = B[s1 + p]!; bp[dst + 2] = B[s2 + p]!; bp[dst + 3] = B[s3 + p]!;
        bp[dst + 4] = B[s4 + p]!; bp[dst + 5] = B[s5 + p]!; bp[dst + 6] = B[s6 + p]!; bp[dst + 7] = B[s7 + p]!;
      }
    } else if (transB) {
      // op(B)(p, j) = B[j·ldb + p]: read each row of B (a column of op(B)) sequentially.
      for (let c = 0; c < nr; c++) {
        const src = bOffset + (j0 + jr + c) * ldb + p0;
        for (let p = 0, dst = s + c; p < kc; p++, dst += NR) bp[dst] = B[src + p]!;
      }
    } else if (nr === 8 && NR === 8) {
      // op(B)(p, j) = B[p·ldb + j]: the NR values of one p are contiguous in B.
      for (let p = 0, src = bOffset + p0 * ldb + j0 + jr, dst = s; p < kc; p++, src += ldb, dst += 8) {
        bp[dst] = B[src]!; bp[dst + 1] = B[src + 1]!; bp[dst + 2] = B[src + 2]!; bp[dst + 3] = B[src + 3]!;
        bp[dst + 4] = B[src + 4]!; bp[dst + 5] = B[src + 5]!; bp[dst + 6] = B[src + 6]!; bp[dst + 7] = B[src + 7]!;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = bOffset + (p0 + p) * ldb + j0 + jr, dst = s + p * NR;
        for (let c = 0; c < nr; c++) bp[dst + c] = B[src + c]!;
      }
    }
  }
}

/**
 * The float32 calls with nothing to multiply: an empty C, or alpha = 0 or K = 0 (then
 * C ← beta·C, and beta = 0 writes zeros without reading C). Returns whether the call was one.
 */
export function vanishingProduct(M: number, N: number, K: number, alpha: number, beta: number, C: Float32Array, cOffset: number, ldc: number): boolean {
  if (M === 0 || N === 0) return true;
  if (alpha !== 0 && K !== 0) return false;
  scaleC(M, N, beta, C, cOffset, ldc);
  return true;
}

function scaleC(M: number, N: number, beta: number, C: Float32Array, cOffset: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    const row = cOffset + i * ldc;
    if (beta === 0) C.fill(0, row, row + N);
    else for (let j = 0; j < N; j++) C[row + j]! *= beta;
  }
}
