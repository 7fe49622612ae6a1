// im2col / col2im and the convolution built on them: im2col convolution equals a naive
// direct convolution (forward and all three gradients); col2im is the adjoint of im2col,
// ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ in float64; both over random geometries and over the
// full grid of stride × padding × dilation; images batched into one gemm in chunks of any
// size (the column budget) give the same results; im2col / col2im on a block of a wider
// matrix (colsOffset, ldCols) equal the plain ones and touch nothing outside the block.
// Winograd F(2×2, 3×3) (3×3, stride 1: forward, input and weight gradients) equals the naive
// convolution for every padding 0..2, odd and even sizes, down to 1×1 outputs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hostKernels as be } from '../../../../src/kernels/cpu/ref/index.js';
import { windowGeometry } from '../../../../src/kernels/geometry.js';
import { conv2dBackward, conv2dForward, setConvColumnBudget, setConvWinograd } from '../../../../src/kernels/cpu/simd/conv.js';
import { winogradConv3x3, winogradWeightGrad3x3, winogradWeights } from '../../../../src/kernels/cpu/simd/winograd.js';
import type { FloatArray, WindowGeometry } from '../../../../src/kernels/backend.js';
import { Generator } from '../../../../src/index.js';
import { convCaseArb, type ConvCase } from '../../../helpers/arbitraries.js';
import { expectClose } from '../../../helpers/check.js';

const geometryOf = (c: ConvCase): WindowGeometry =>
  windowGeometry('test', c.C, c.H, c.W, c.R, c.S, { stride: c.stride, padding: c.padding, dilation: c.dilation });

function rand(n: number, gen: Generator, Arr: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): FloatArray {
  const out = new Arr(n);
  for (let i = 0; i < n; i++) out[i] = gen.uniform(-1, 1);
  return out;
}

/** The input pixel that tap (r, s) of output (p, q) reads, or null in the padding. */
function tap(g: WindowGeometry, p: number, q: number, r: number, s: number): [number, number] | null {
  const h = p * g.strideH - g.padH + r * g.dilH, w = q * g.strideW - g.padW + s * g.dilW;
  return h >= 0 && h < g.H && w >= 0 && w < g.W ? [h, w] : null;
}

/** Direct convolution, straight from the definition: y[n,k,p,q] = b[k] + Σ_{c,r,s} w[k,c,r,s]·x[n,c,h,w]. */
function naiveConv(x: FloatArray, N: number, w: FloatArray, K: number, b: FloatArray | null, g: WindowGeometry): Float64Array {
  const { C, H, W, R, S, P, Q } = g;
  const y = new Float64Array(N * K * P * Q);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    let acc = b ? b[k]! : 0;
    for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
      const t = tap(g, p, q, r, s);
      if (t) acc += w[((k * C + c) * R + r) * S + s]! * x[((n * C + c) * H + t[0]) * W + t[1]]!;
    }
    y[((n * K + k) * P + p) * Q + q] = acc;
  }
  return y;
}

/** Gradients of the direct convolution, also from the definition. */
function naiveConvBackward(x: FloatArray, N: number, w: FloatArray, K: number, g: WindowGeometry, dy: FloatArray) {
  const { C, H, W, R, S, P, Q } = g;
  const dx = new Float64Array(N * C * H * W), dw = new Float64Array(K * C * R * S), db = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    const d = dy[((n * K + k) * P + p) * Q + q]!;
    db[k]! += d;
    for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
      const t = tap(g, p, q, r, s);
      if (!t) continue;
      const xi = ((n * C + c) * H + t[0]) * W + t[1], wi = ((k * C + c) * R + r) * S + s;
      dx[xi]! += d * w[wi]!;
      dw[wi]! += d * x[xi]!;
    }
  }
  return { dx, dw, db };
}

function checkConv(c: ConvCase, gen: Generator, Arr: Float32ArrayConstructor | Float64ArrayConstructor, tol: number): void {
  const g = geometryOf(c);
  const where = `N ${c.N} C ${c.C} ${c.H}×${c.W}, K ${c.K} ${c.R}×${c.S}, stride ${c.stride}, padding ${c.padding}, dilation ${c.dilation} → ${g.P}×${g.Q}`;
  expect([g.P, g.Q]).toEqual([
    Math.floor((c.H + 2 * c.padding[0] - c.dilation[0] * (c.R - 1) - 1) / c.stride[0]) + 1,
    Math.floor((c.W + 2 * c.padding[1] - c.dilation[1] * (c.S - 1) - 1) / c.stride[1]) + 1,
  ]);
  const x = rand(c.N * c.C * c.H * c.W, gen, Arr), w = rand(c.K * c.C * c.R * c.S, gen, Arr), b = rand(c.K, gen, Arr);
  const y = new Arr(c.N * c.K * g.P * g.Q).fill(NaN); // the kernel must overwrite every output
  conv2dForward(x, c.N, w, c.K, b, g, y);
  expectClose(y, naiveConv(x, c.N, w, c.K, b, g), `conv forward (${where})`, tol, tol);

  const dy = rand(y.length, gen, Arr);
  const dx = new Arr(x.length).fill(NaN), dw = new Arr(w.length), db = new Arr(c.K);
  conv2dBackward(x, c.N, w, c.K, g, dy, dx, dw, db);
  const ref = naiveConvBackward(x, c.N, w, c.K, g, dy);
  expectClose(dx, ref.dx, `conv dx (${where})`, tol, tol);
  expectClose(dw, ref.dw, `conv dw (${where})`, tol, tol);
  expectClose(db, ref.db, `conv db (${where})`, tol, tol);
}

describe('im2col convolution equals a naive direct convolution', () => {
  it('random geometries, float64 and float32', () => {
    fc.assert(fc.property(convCaseArb({ maxN: 3, maxC: 3, maxK: 4, maxR: 4, maxDil: 3, maxExtra: 6 }), fc.nat(), (c, seed) => {
      checkConv(c, new Generator(seed), Float64Array, 1e-12);
      checkConv(c, new Generator(seed), Float32Array, 1e-4); // float32 sums of up to 48 terms
    }), { numRuns: 60 });
  });

  it('any chunking of the batch (column budget from one image per gemm to all at once), float64 and float32', () => {
    fc.assert(fc.property(convCaseArb({ maxN: 5, maxC: 3, maxK: 4, maxR: 3, maxDil: 2, maxExtra: 5 }), fc.nat(), fc.nat(6), (c, seed, per) => {
      const g = geometryOf(c);
      // per = images per chunk (0: one per gemm); chunks of 2 or 3 with N = 5 leave a partial last chunk
      const prev = setConvColumnBudget(per * c.C * c.R * c.S * g.P * g.Q);
      try {
        checkConv(c, new Generator(seed), Float64Array, 1e-12);
        checkConv(c, new Generator(seed), Float32Array, 1e-4);
      } finally {
        setConvColumnBudget(prev);
      }
    }), { numRuns: 60 });
  });

  it('the full grid: stride 1..3 × padding 0..2 × dilation 1..3 on each axis', () => {
    const gen = new Generator(1);
    let n = 0;
    for (const sH of [1, 2, 3]) for (const sW of [1, 2, 3]) for (const pH of [0, 1, 2]) for (const pW of [0, 1, 2]) for (const dH of [1, 2, 3]) for (const dW of [1, 2, 3]) {
      const R = 3, S = 2;
      const H = Math.max(1, dH * (R - 1) + 1 - 2 * pH) + (n % 3), W = Math.max(1, dW * (S - 1) + 1 - 2 * pW) + ((n >> 1) % 3);
      checkConv({ N: 1 + (n % 2), C: 2, K: 2, H, W, R, S, stride: [sH, sW], padding: [pH, pW], dilation: [dH, dW] }, gen, Float64Array, 1e-12);
      n++;
    }
    expect(n).toBe(729);
  });
});

/** cols straight from the definition: row (c, r, s), column (p, q) holds x[c, h, w] for the tap, 0 in the padding. */
function naiveIm2col(x: FloatArray, g: WindowGeometry): Float64Array {
  const PQ = g.P * g.Q;
  const cols = new Float64Array(g.C * g.R * g.S * PQ);
  for (let c = 0; c < g.C; c++) for (let r = 0; r < g.R; r++) for (let s = 0; s < g.S; s++) for (let p = 0; p < g.P; p++) for (let q = 0; q < g.Q; q++) {
    const t = tap(g, p, q, r, s);
    cols[((c * g.R + r) * g.S + s) * PQ + p * g.Q + q] = t ? x[(c * g.H + t[0]) * g.W + t[1]]! : 0;
  }
  return cols;
}

describe('im2col equals its definition on each of its paths', () => {
  // im2col copies whole shifted planes for stride 1 and Q = W when P·Q ≥ 64, gathers
  // through an index table when P·Q ≤ 64, and loops over output rows otherwise.
  const i = (min: number, max: number) => fc.integer({ min, max });
  const anyGeometry = fc.record({ C: i(1, 3), H: i(1, 24), W: i(1, 24), R: i(1, 5), S: i(1, 5), sH: i(1, 3), sW: i(1, 3), pH: i(0, 2), pW: i(0, 2), dH: i(1, 2), dW: i(1, 2) })
    .filter((r) => r.H + 2 * r.pH >= r.dH * (r.R - 1) + 1 && r.W + 2 * r.pW >= r.dW * (r.S - 1) + 1);
  // stride 1 with "same" width: S odd, padW = dilW·(S − 1)/2, images of 8 to 24 pixels
  const sameWidth = fc.record({ C: i(1, 3), H: i(1, 24), W: i(8, 24), R: i(1, 5), s: i(0, 2), pH: i(0, 3), dH: i(1, 2), dW: i(1, 2) })
    .map((r) => ({ C: r.C, H: r.H + r.dH * (r.R - 1), W: r.W, R: r.R, S: 2 * r.s + 1, sH: 1, sW: 1, pH: r.pH, pW: r.dW * r.s, dH: r.dH, dW: r.dW }));
  it('random geometries (float32 and float64), written into a block of a wider matrix', () => {
    fc.assert(fc.property(fc.oneof(anyGeometry, sameWidth), fc.nat(), fc.nat(5), (r, seed, extra) => {
      const g = windowGeometry('test', r.C, r.H, r.W, r.R, r.S, { stride: [r.sH, r.sW], padding: [r.pH, r.pW], dilation: [r.dH, r.dW] });
      const PQ = g.P * g.Q, rows = r.C * r.R * r.S, ld = PQ + extra, off = 3;
      for (const Arr of [Float64Array, Float32Array]) {
        const x = rand(r.C * r.H * r.W, new Generator(seed), Arr);
        const ref = naiveIm2col(x, g);
        const cols = new Arr(off + rows * ld).fill(NaN);
        be.im2col(x, 0, g, cols, off, ld);
        for (let k = 0; k < rows; k++) for (let j = 0; j < PQ; j++) {
          const got = cols[off + k * ld + j]!, want = ref[k * PQ + j]!;
          if (got !== want) throw new Error(`im2col ${Arr.name} C ${r.C} ${r.H}×${r.W}, ${r.R}×${r.S}, stride ${r.sH},${r.sW}, padding ${r.pH},${r.pW}, dilation ${r.dH},${r.dW} → ${g.P}×${g.Q}: row ${k} column ${j} is ${got}, expected ${want}`);
        }
      }
    }), { numRuns: 300 });
  });

  it('same-width stride-1 convolutions large enough for the shifted-copy path equal the naive convolution', () => {
    const gen = new Generator(7);
    for (const [H, W, R, S, pH, pW, dH, dW] of [[12, 10, 3, 3, 1, 1, 1, 1], [9, 16, 5, 3, 0, 1, 1, 1], [8, 8, 3, 5, 2, 4, 2, 2], [11, 13, 1, 1, 0, 0, 1, 1], [10, 9, 4, 3, 3, 2, 1, 2]] as const) {
      checkConv({ N: 3, C: 2, K: 3, H, W, R, S, stride: [1, 1], padding: [pH, pW], dilation: [dH, dW] }, gen, Float64Array, 1e-12);
      checkConv({ N: 3, C: 2, K: 3, H, W, R, S, stride: [1, 1], padding: [pH, pW], dilation: [dH, dW] }, gen, Float32Array, 1e-4);
    }
  });
});

describe('col2im is the adjoint of im2col', () => {
  it('⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ in float64, with offsets into larger buffers', () => {
    fc.assert(fc.property(convCaseArb({ maxC: 3, maxR: 4, maxDil: 3, maxExtra: 6 }), fc.nat(), fc.nat(5), (c, seed, off) => {
      const g = geometryOf(c);
      const gen = new Generator(seed);
      const CHW = c.C * c.H * c.W, rows = c.C * c.R * c.S, PQ = g.P * g.Q;
      const x = rand(off + CHW, gen) as Float64Array;
      const y = rand(rows * PQ, gen) as Float64Array;
      const cols = new Float64Array(rows * PQ).fill(NaN);
      be.im2col(x, off, g, cols);
      const dx = new Float64Array(off + CHW);
      const before = rand(off, gen);
      dx.set(before); // col2im must only touch [off, off + CHW)
      const pre = Float64Array.from(dx);
      be.col2im(y, g, dx, off);
      let lhs = 0, rhs = 0;
      for (let i = 0; i < cols.length; i++) lhs += cols[i]! * y[i]!;
      for (let i = 0; i < CHW; i++) rhs += x[off + i]! * (dx[off + i]! - pre[off + i]!);
      const scale = Math.max(1, Math.abs(lhs));
      if (Math.abs(lhs - rhs) > 1e-12 * scale * rows) throw new Error(`⟨im2col(x), y⟩ = ${lhs} but ⟨x, col2im(y)⟩ = ${rhs} (C ${c.C} ${c.H}×${c.W}, ${c.R}×${c.S}, stride ${c.stride}, padding ${c.padding}, dilation ${c.dilation})`);
      expect(Array.from(dx.subarray(0, off))).toEqual(Array.from(before));
    }), { numRuns: 100 });
  });

  it('im2col / col2im on a block of a wider matrix (colsOffset, ldCols) equal the plain ones, touching nothing else', () => {
    fc.assert(fc.property(convCaseArb({ maxC: 3, maxR: 3, maxDil: 2, maxExtra: 5 }), fc.nat(), fc.nat(7), fc.nat(9), (c, seed, colOff, extra) => {
      const g = geometryOf(c);
      const gen = new Generator(seed);
      const CHW = c.C * c.H * c.W, rows = c.C * c.R * c.S, PQ = g.P * g.Q;
      const ld = PQ + extra;
      const x = rand(CHW, gen) as Float64Array;
      const plain = new Float64Array(rows * PQ).fill(NaN);
      be.im2col(x, 0, g, plain);
      const wide = new Float64Array(colOff + rows * ld + 2).fill(-7);
      be.im2col(x, 0, g, wide, colOff, ld);
      for (let i = 0; i < wide.length; i++) {
        const k = i - colOff, r = Math.floor(k / ld), j = k - r * ld;
        const expected = k >= 0 && r < rows && j < PQ ? plain[r * PQ + j]! : -7;
        if (wide[i] !== expected) throw new Error(`im2col at offset ${colOff}, ld ${ld}: element ${i} is ${wide[i]}, expected ${expected}`);
      }
      // col2im reads the block only: garbage around it must not reach dx
      const y = rand(rows * PQ, gen) as Float64Array;
      const yWide = new Float64Array(wide.length).fill(1e9);
      for (let r = 0; r < rows; r++) yWide.set(y.subarray(r * PQ, (r + 1) * PQ), colOff + r * ld);
      const dx1 = rand(CHW, gen) as Float64Array, dx2 = Float64Array.from(dx1);
      be.col2im(y, g, dx1, 0);
      be.col2im(yWide, g, dx2, 0, colOff, ld);
      expect(Array.from(dx2)).toEqual(Array.from(dx1));
    }), { numRuns: 100 });
  });

  it('a block that does not fit the cols array is an error naming the sizes', () => {
    const g = windowGeometry('test', 1, 3, 3, 2, 2, {});
    expect(() => be.im2col(new Float64Array(9), 0, g, new Float64Array(4 * 4), 1, 4)).toThrow(/cols \[4, 4\] with ldCols 4 at offset 1 needs 17 elements, array has 16/);
    expect(() => be.col2im(new Float64Array(16), g, new Float64Array(9), 0, 0, 3)).toThrow(/ldCols 3 .* ≥ P·Q = 4/);
  });

  it('col2im accumulates (+=) into dx', () => {
    const g = windowGeometry('test', 1, 3, 3, 2, 2, {});
    const cols = new Float64Array(4 * g.P * g.Q).fill(1);
    const dx = new Float64Array(9).fill(10);
    be.col2im(cols, g, dx, 0);
    // Each pixel gets one per window covering it: corners 1, edges 2, centre 4.
    expect(Array.from(dx)).toEqual([11, 12, 11, 12, 14, 12, 11, 12, 11]);
  });
});

describe('Winograd F(2×2, 3×3) convolution equals the naive convolution', () => {
  it('conv2dForward / conv2dBackward on the Winograd path: padding 0..2 on each axis, odd and even sizes, float64 and float32', () => {
    const gen = new Generator(11);
    let n = 0;
    for (const pH of [0, 1, 2]) for (const pW of [0, 1, 2]) for (const [H, W] of [[8, 8], [9, 11], [12, 7], [10, 10]] as const) {
      const c: ConvCase = { N: 1 + (n % 3), C: 2 + (n % 2), K: 3, H, W, R: 3, S: 3, stride: [1, 1], padding: [pH, pW], dilation: [1, 1] };
      const g = geometryOf(c);
      if (g.P * g.Q < 64) continue; // below WINOGRAD_MIN_PQ im2col + gemm runs: covered above
      checkConv(c, gen, Float64Array, 1e-12);
      checkConv(c, gen, Float32Array, 1e-4);
      n++;
    }
    expect(n).toBeGreaterThan(20);
  });

  it('the Winograd path gives the same result as im2col + gemm, and dx alone / dw alone work', () => {
    const gen = new Generator(5);
    const c: ConvCase = { N: 3, C: 5, K: 6, H: 13, W: 10, R: 3, S: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] };
    const g = geometryOf(c);
    const x = rand(c.N * c.C * c.H * c.W, gen), w = rand(c.K * c.C * 9, gen), b = rand(c.K, gen), dy = rand(c.N * c.K * g.P * g.Q, gen);
    const run = (wino: boolean) => {
      const prev = setConvWinograd(wino);
      try {
        const y = new Float64Array(dy.length);
        conv2dForward(x, c.N, w, c.K, b, g, y);
        const dx = new Float64Array(x.length).fill(NaN), dw = new Float64Array(w.length);
        conv2dBackward(x, c.N, w, c.K, g, dy, dx, null, null);
        conv2dBackward(x, c.N, w, c.K, g, dy, null, dw, null);
        return { y, dx, dw };
      } finally {
        setConvWinograd(prev);
      }
    };
    const a = run(true), r = run(false);
    expectClose(a.y, r.y, 'winograd forward', 1e-12, 1e-12);
    expectClose(a.dx, r.dx, 'winograd dx', 1e-12, 1e-12);
    expectClose(a.dw, r.dw, 'dw', 1e-12, 1e-12);
  });

  it('winogradConv3x3 / winogradWeightGrad3x3 directly, down to 1×1 outputs, with and without the flipped (input-gradient) filters', () => {
    const gen = new Generator(3);
    for (const [H, W, pH, pW] of [[3, 3, 0, 0], [1, 1, 1, 1], [2, 5, 1, 0], [4, 3, 2, 2], [6, 1, 1, 2]] as const) {
      const N = 2, C = 3, K = 2;
      const g = windowGeometry('test', C, H, W, 3, 3, { padding: [pH, pW] });
      const x = rand(N * C * H * W, gen), w = rand(K * C * 9, gen);
      const y = new Float64Array(N * K * g.P * g.Q).fill(NaN);
      winogradConv3x3(x, N, C, H, W, winogradWeights(w, K, C, false), K, pH, pW, g.P, g.Q, y);
      expectClose(y, naiveConv(x, N, w, K, null, g), `winograd ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
      // flip: the input gradient of the same convolution, a convolution of dy with padding 2 − pad
      const dy = rand(y.length, gen);
      const dx = new Float64Array(x.length).fill(NaN);
      winogradConv3x3(dy, N, K, g.P, g.Q, winogradWeights(w, K, C, true), C, 2 - pH, 2 - pW, H, W, dx);
      const ref = naiveConvBackward(x, N, w, K, g, dy);
      expectClose(dx, ref.dx, `winograd input gradient ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
      // weight gradient, accumulated (+=) onto what dw holds
      const dw = new Float64Array(w.length).fill(1);
      winogradWeightGrad3x3(x, N, C, H, W, dy, K, pH, pW, g.P, g.Q, dw);
      expectClose(dw, ref.dw.map((v) => v + 1), `winograd weight gradient ${H}×${W} pad ${pH},${pW}`, 1e-12, 1e-12);
    }
  });
});
