// The pieces under the fast backend: the WebAssembly encoder, both variants of the SIMD
// macro-kernel (relaxed madd and plain mul + add: the second is what runs where relaxed
// SIMD is unavailable, so it is tested here even on an engine that has the first) and
// other register tiles, and the scratch arena.
import { describe, expect, it } from 'vitest';
import { sleb, uleb } from '../../../../src/kernels/cpu/simd/asm.js';
import { gemmModuleBytes, type TileShape } from '../../../../src/kernels/cpu/simd/simd-gemm.js';
import { SimdInstance, simdModule } from '../../../../src/kernels/cpu/simd/simd.js';
import { gemmTask, planGemm, type GemmJob } from '../../../../src/kernels/cpu/simd/gemm.js';
import { Arena } from '../../../../src/kernels/cpu/simd/arena.js';
import { simdWinogradGradOutput, simdWinogradInput, simdWinogradOutput } from '../../../../src/kernels/cpu/simd/tasks.js';
import { winogradGradOutput, winogradInput, winogradOutput } from '../../../../src/kernels/cpu/simd/winograd.js';
import { gemm as refGemm } from '../../../../src/kernels/cpu/ref/gemm.js';
import { Generator } from '../../../../src/index.js';
import { relNormError } from '../../../helpers/check.js';

describe('asm: LEB128', () => {
  it('encodes unsigned and signed integers as the WebAssembly spec does', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0x105)).toEqual([0x85, 0x02]);
    expect(sleb(0)).toEqual([0]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe('SIMD gemm module variants', () => {
  const values = (n: number, seed: number) => {
    const g = new Generator(seed);
    return Float32Array.from({ length: n }, () => g.uniform(-1, 1));
  };
  const check = (inst: SimdInstance) => {
    for (const [M, N, K] of [[1, 1, 1], [5, 9, 3], [37, 70, 300], [170, 530, 257]] as const) {
      for (const transA of [false, true]) for (const transB of [false, true]) {
        const A = values(M * K, M), B = values(K * N, N), C = values(M * N, K);
        const want = Float64Array.from(C);
        refGemm(transA, transB, M, N, K, 0.5, Float64Array.from(A), 0, transA ? M : K, Float64Array.from(B), 0, transB ? K : N, 1, want, 0, N);
        const job: GemmJob = {
          kind: 'gemm', transA, transB, M, N, K, alpha: 0.5, A, aOffset: 0, lda: transA ? M : K, B, bOffset: 0, ldb: transB ? K : N,
          beta: 1, C, cOffset: 0, ldc: N, ...planGemm(M, N, inst.MR, inst.NR, 1),
        };
        for (let t = 0; t < job.tilesM * Math.ceil(N / job.nw); t++) gemmTask(inst, job, t);
        expect(relNormError(C, want), `${M}×${N}×${K} transA=${transA} transB=${transB}`).toBeLessThanOrEqual(1e-5);
      }
    }
  };

  it('the engine validates at least the plain-SIMD module (Node ≥ 20), and the backend picked the best variant it validates', () => {
    expect(WebAssembly.validate(gemmModuleBytes(false))).toBe(true);
    const m = simdModule();
    expect(m).not.toBeNull();
    expect(m!.relaxed).toBe(WebAssembly.validate(gemmModuleBytes(true)));
  });

  for (const relaxed of [false, true]) {
    for (const tile of [{ MR: 4, NR: 8 }, { MR: 6, NR: 8 }, { MR: 2, NR: 16 }] as TileShape[]) {
      it(`${relaxed ? 'relaxed madd' : 'mul + add'}, tile ${tile.MR} × ${tile.NR}: every transpose, ragged edges, within 1e-5 of the reference`, () => {
        simdModule(); // sets the relaxed-SIMD flag
        const bytes = gemmModuleBytes(relaxed, tile);
        if (!WebAssembly.validate(bytes)) {
          expect(relaxed).toBe(true); // only relaxed SIMD may be missing
          return;
        }
        check(new SimdInstance(new WebAssembly.Module(bytes), tile));
      });
    }
  }

  it('refuses a tile that does not fit the 16 vector registers', () => {
    expect(() => gemmModuleBytes(true, { MR: 8, NR: 8 })).toThrow(/fit 16 registers/);
    expect(() => gemmModuleBytes(true, { MR: 4, NR: 6 })).toThrow(/multiple of 4/);
  });
});

describe('Arena', () => {
  it('hands out zeroed, disjoint arrays; past its size, separate arrays, and the next reset grows it to the last need', () => {
    const a = new Arena(true);
    const x = a.alloc(10); // past the empty arena: an array of its own, still shared memory (workers read it)
    expect(x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(x.length).toBe(10);
    a.reset(); // grows to the 10 floats last asked for
    const p = a.alloc(4), q = a.alloc(6);
    expect(p.buffer).toBe(q.buffer);
    expect(p.buffer).not.toBe(x.buffer);
    expect(q.byteOffset).toBe(16);
    expect(p.buffer).toBeInstanceOf(SharedArrayBuffer);
    p.fill(7);
    expect(Array.from(q)).toEqual([0, 0, 0, 0, 0, 0]);
    a.reset();
    const r = a.alloc(4);
    expect(r.buffer).toBe(p.buffer);
    expect(Array.from(r)).toEqual([0, 0, 0, 0]); // zeroed again after the reset
  });
});

describe('SIMD Winograd input transform', () => {
  it('equals the reference winogradInput (to float32 rounding) for odd sizes, every padding, tile rows not a multiple of 4', () => {
    const m = simdModule()!;
    const inst = new SimdInstance(m.module, undefined, m.winograd);
    const fast = simdWinogradInput(inst);
    for (const [N, C, H, W, pad] of [[2, 3, 7, 9, 1], [1, 2, 12, 16, 0], [3, 1, 5, 5, 2], [1, 4, 30, 27, 1], [2, 2, 4, 3, 2]] as const) {
      const P = H + 2 * pad - 2, Q = W + 2 * pad - 2, TH = (P + 1) >> 1, TW = (Q + 1) >> 1, T = (N - 1) * TH * TW;
      const g = new Generator(H * W + C);
      const x = Float32Array.from({ length: N * C * H * W }, () => g.uniform(-1, 1));
      // images 1 .. N−1 (n0 = 1), as a chunk after the first
      const want = new Float64Array(16 * C * T), got = new Float32Array(16 * C * T).fill(NaN);
      winogradInput(x, 1, N - 1, C, H, W, pad, pad, TH, TW, want, new Float64Array((2 * TH + 2) * (2 * TW + 2)));
      fast(x, 1, N - 1, C, H, W, pad, pad, TH, TW, got, new Float64Array(0));
      expect(relNormError(got, want), `${N}×${C}×${H}×${W} pad ${pad}`).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('SIMD Winograd output transform', () => {
  it('equals the reference winogradOutput (to float32 rounding), odd P and Q clipped, tile rows not a multiple of 4', () => {
    const m = simdModule()!;
    const inst = new SimdInstance(m.module, undefined, m.winograd);
    const fast = simdWinogradOutput(inst);
    for (const [N, K, P, Q] of [[2, 3, 7, 9], [1, 2, 12, 16], [3, 1, 5, 5], [1, 4, 30, 27], [2, 2, 1, 3]] as const) {
      const TH = (P + 1) >> 1, TW = (Q + 1) >> 1, T = (N - 1 || 1) * TH * TW, n0 = N - 1 ? 1 : 0, mm = N - 1 || 1;
      const g = new Generator(P * Q + K);
      const M = Float32Array.from({ length: 16 * K * T }, () => g.uniform(-1, 1));
      const want = new Float64Array(N * K * P * Q), got = new Float32Array(N * K * P * Q);
      winogradOutput(Float64Array.from(M), n0, mm, K, T, TH, TW, P, Q, want);
      fast(M, n0, mm, K, T, TH, TW, P, Q, got);
      expect(relNormError(got, want), `${N}×${K}×${P}×${Q}`).toBeLessThanOrEqual(1e-6);
      // nothing outside images n0 .. n0 + mm − 1 is written
      expect(Array.from(got.subarray(0, n0 * K * P * Q)).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('SIMD Winograd output-gradient transform (weight gradient)', () => {
  it('equals the reference winogradGradOutput (to float32 rounding), odd P and Q, tile rows not a multiple of 4', () => {
    const m = simdModule()!;
    const inst = new SimdInstance(m.module, undefined, m.winograd);
    const fast = simdWinogradGradOutput(inst);
    for (const [N, K, P, Q] of [[2, 3, 7, 9], [1, 2, 12, 16], [3, 1, 5, 5], [1, 4, 30, 27], [2, 2, 1, 3]] as const) {
      const TH = (P + 1) >> 1, TW = (Q + 1) >> 1, mm = N - 1 || 1, n0 = N - mm, T = mm * TH * TW;
      const g = new Generator(P * Q + K);
      const dy = Float32Array.from({ length: N * K * P * Q }, () => g.uniform(-1, 1));
      const want = new Float64Array(16 * K * T), got = new Float32Array(16 * K * T).fill(NaN);
      winogradGradOutput(dy, n0, mm, K, T, TH, TW, P, Q, want);
      fast(dy, n0, mm, K, T, TH, TW, P, Q, got);
      expect(relNormError(got, want), `${N}×${K}×${P}×${Q}`).toBeLessThanOrEqual(1e-6);
    }
  });
});
