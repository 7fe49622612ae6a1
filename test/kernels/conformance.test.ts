// The conformance suite: every kernel of the Backend interface, on every registered backend,
// against plain references written here (triple loops, window loops, the textbook formulas),
// and then each backend against the reference backend on random shapes (fast-check). A new
// backend (WebAssembly, gpu.js) is held to the same results by registering it; tolerances
// are float32-sized so that a backend that computes in float32 passes. Each part ends with
// a check that it called every method of the interface (the backends are wrapped to record
// what is called), so a kernel added to backend.ts without a test here fails the suite.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Backend, BinaryOp, DeviceBuffer, FloatArray, GdmStep, UnaryOp, WindowGeometry } from '../../src/kernels/backend.js';
import { STORAGE_METHODS, UNARY_BACKWARD_READS } from '../../src/kernels/backend.js';
import { windowGeometry } from '../../src/kernels/geometry.js';
import { contiguousStrides } from '../../src/tensor/shape.js';
import { Generator } from '../../src/index.js';
import { conformanceBackends, referenceBackend } from '../helpers/backends.js';
import { expectClose } from '../helpers/check.js';
import { naiveConv, naiveGemm } from '../helpers/naive.js';

// every registered backend, or the one TL_CONFORMANCE_MODULE names (test/helpers/backends.ts)
const BACKENDS = await conformanceBackends();
const RTOL = 2e-5, ATOL = 2e-5;

/**
 * Every method of the Backend interface. The reference backend implements exactly the
 * interface (TypeScript holds it to it), so its methods are the list, and a method added
 * to backend.ts joins it without anyone editing this file.
 */
const KERNELS = Object.keys(referenceBackend()).filter((k) => typeof (referenceBackend() as unknown as Record<string, unknown>)[k] === 'function').sort();

/** `be` with each method it is asked for recorded in `seen`: the suite checks it left none untested. */
function tracked(be: Backend, seen: Set<string>): Backend {
  return new Proxy(be, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      seen.add(String(key));
      return (...args: unknown[]) => (v as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
}

function rand(n: number, gen: Generator, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => gen.uniform(lo, hi));
}
const up = (be: Backend, a: ArrayLike<number>): DeviceBuffer => be.upload(Float32Array.from(a));
const down = (be: Backend, b: DeviceBuffer): Float32Array => Float32Array.from(be.read(b, 0, be.lengthOf(b)));

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const convGeoms: [string, WindowGeometry][] = [
  ['3×3 pad 1 (Winograd-sized)', windowGeometry('t', 3, 9, 10, 3, 3, { padding: 1 })],
  ['3×3 pad 1, small (im2col)', windowGeometry('t', 2, 4, 5, 3, 3, { padding: 1 })],
  ['2×3 stride 2 dilation 1,2', windowGeometry('t', 2, 7, 8, 2, 3, { stride: 2, padding: [1, 0], dilation: [1, 2] })],
  ['1×1', windowGeometry('t', 4, 3, 3, 1, 1, {})],
];

describe.each(BACKENDS.map((b) => [b.name, b] as const))('backend %s', (_name, backend) => {
  const seen = new Set<string>();
  const be = tracked(backend, seen);

  it('declares float32; storage: alloc is zeros, upload/read round-trip, write and fill ranges, dtype and length', () => {
    expect(be.dtypes).toContain('float32');
    for (const dtype of be.dtypes) {
      const z = be.alloc(dtype, 5);
      expect(be.dtypeOf(z)).toBe(dtype);
      expect(be.lengthOf(z)).toBe(5);
      expect(Array.from(be.read(z, 0, 5))).toEqual([0, 0, 0, 0, 0]);
    }
    const b = up(be, [1, 2, 3, 4, 5, 6]);
    expect(Array.from(be.read(b, 2, 3))).toEqual([3, 4, 5]);
    be.write(b, 1, Float32Array.of(9, 8));
    be.fill(b, -1, 4, 2);
    expect(Array.from(be.read(b, 0, 6))).toEqual([1, 9, 8, 4, -1, -1]);
    expect(be.lengthOf(be.allocIndex(7))).toBe(7);
  });

  it('release: a buffer handed back may be reused, but alloc still gives zeros, and hands it out once', () => {
    for (let round = 0; round < 3; round++) {
      const b = be.alloc('float32', 1000);
      be.fill(b, 7, 0, 1000);
      be.release(b);
      be.release(b); // twice: still one reuse at most
      const c = be.alloc('float32', 1000), d = be.alloc('float32', 1000);
      expect(c === d).toBe(false);
      expect(down(be, c).every((v) => v === 0) && down(be, d).every((v) => v === 0)).toBe(true);
    }
  });

  it('gemm: every transpose, alpha/beta, offsets and leading dimensions', () => {
    const gen = new Generator(1);
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const M = 5, N = 7, K = 6, lda = (tA ? M : K) + 2, ldb = (tB ? K : N) + 1, ldc = N + 3;
      const A = rand(3 + (tA ? K : M) * lda, gen), B = rand(2 + (tB ? N : K) * ldb, gen), C = rand(1 + M * ldc, gen);
      const Cb = up(be, C);
      be.gemm(tA, tB, M, N, K, 0.5, up(be, A), 3, lda, up(be, B), 2, ldb, 2, Cb, 1, ldc);
      const ref = naiveGemm(tA, tB, M, N, K, 0.5, A.subarray(3), lda, B.subarray(2), ldb, 2, C.subarray(1), ldc);
      expectClose(down(be, Cb).subarray(1), ref, `gemm transA ${tA} transB ${tB}`, RTOL, ATOL);
      expect(down(be, Cb)[0]).toBe(C[0]); // nothing before cOffset is touched
    }
    // beta = 0 ignores NaN garbage in C
    const Cn = up(be, new Float32Array(4).fill(NaN));
    be.gemm(false, false, 2, 2, 1, 1, up(be, [1, 2]), 0, 1, up(be, [3, 4]), 0, 2, 0, Cn, 0, 2);
    expect(Array.from(down(be, Cn))).toEqual([3, 4, 6, 8]);
  });

  it.each(convGeoms)('im2col reproduces the patches and col2im is its adjoint: %s', (_label, g) => {
    const gen = new Generator(2);
    const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
    const x = rand(CHW + 4, gen);
    const cols = be.alloc('float32', CRS * PQ * 2);
    // image at xOffset 4, written as the second of two blocks side by side (colsOffset PQ, ldCols 2·PQ)
    be.im2col(up(be, x), 4, g, cols, PQ, 2 * PQ);
    const c = down(be, cols);
    // W = e_(c,r,s) picks row (c, r, s) of the columns: im2col · row = conv with a one-hot filter
    for (let row = 0; row < CRS; row++) {
      const w = new Float32Array(CRS);
      w[row] = 1;
      const ref = naiveConv(x.subarray(4), 1, w, 1, null, g);
      expectClose(c.subarray(row * 2 * PQ + PQ, row * 2 * PQ + 2 * PQ), ref, `im2col row ${row}`, 0, 0);
    }
    // ⟨im2col(x), u⟩ = ⟨x, col2im(u)⟩, col2im accumulating into dx at its offset
    const u = rand(CRS * PQ * 2, gen);
    const dx = up(be, new Float32Array(CHW + 3).fill(0.25));
    be.col2im(up(be, u), g, dx, 3, PQ, 2 * PQ);
    const dxh = down(be, dx);
    expect(dxh.subarray(0, 3).every((v) => v === 0.25)).toBe(true);
    let lhs = 0;
    for (let row = 0; row < CRS; row++) for (let j = 0; j < PQ; j++) lhs += c[row * 2 * PQ + PQ + j]! * u[row * 2 * PQ + PQ + j]!;
    const rhs = dot(x.subarray(4), dxh.subarray(3).map((v) => v - 0.25));
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(lhs)));
  });

  it.each(convGeoms)('conv2dForward / conv2dBackward equal the direct convolution and its gradients: %s', (_label, g) => {
    const gen = new Generator(3);
    const N = 3, K = 4, CHW = g.C * g.H * g.W, KPQ = K * g.P * g.Q, CRS = g.C * g.R * g.S;
    const x = rand(N * CHW, gen), w = rand(K * CRS, gen), b = rand(K, gen), dy = rand(N * KPQ, gen);
    const y = be.alloc('float32', N * KPQ);
    be.conv2dForward(up(be, x), N, up(be, w), K, up(be, b), g, y);
    expectClose(down(be, y), naiveConv(x, N, w, K, b, g), 'conv2dForward', 1e-4, 1e-4);
    // Gradients by linearity: ⟨dy, conv(x, w)⟩ is linear in x and in w, so each gradient
    // element is the change of that scalar along a one-hot direction.
    const dx = up(be, new Float32Array(N * CHW).fill(NaN)), dw = up(be, new Float32Array(K * CRS).fill(1)), db = up(be, new Float32Array(K).fill(1));
    be.conv2dBackward(up(be, x), N, up(be, w), K, g, up(be, dy), dx, dw, db);
    const dxr = new Array<number>(N * CHW), dwr = new Array<number>(K * CRS), dbr = new Array<number>(K).fill(1);
    for (let i = 0; i < N * CHW; i++) { const e = new Float32Array(N * CHW); e[i] = 1; dxr[i] = dot(dy, naiveConv(e, N, w, K, null, g)); }
    for (let i = 0; i < K * CRS; i++) { const e = new Float32Array(K * CRS); e[i] = 1; dwr[i] = 1 + dot(dy, naiveConv(x, N, e, K, null, g)); }
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let i = 0; i < g.P * g.Q; i++) dbr[k]! += dy[n * KPQ + k * g.P * g.Q + i]!;
    expectClose(down(be, dx), dxr, 'conv2dBackward dx (overwritten)', 1e-4, 1e-4);
    expectClose(down(be, dw), dwr, 'conv2dBackward dw (accumulated)', 1e-4, 1e-4);
    expectClose(down(be, db), dbr, 'conv2dBackward db (accumulated)', 1e-4, 1e-4);
    // any gradient may be skipped
    const dw2 = be.alloc('float32', K * CRS);
    be.conv2dBackward(up(be, x), N, up(be, w), K, g, up(be, dy), null, dw2, null);
    expectClose(down(be, dw2), dwr.map((v) => v - 1), 'conv2dBackward dw alone', 1e-4, 1e-4);
  });

  it('conv2dForward with relu: the bias and the ReLU fused give the bits of conv, biasAdd and unary relu one by one (random shapes, Winograd-sized too)', () => {
    fc.assert(fc.property(
      fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 5 }), K: fc.integer({ min: 1, max: 8 }), H: fc.integer({ min: 3, max: 14 }), W: fc.integer({ min: 3, max: 14 }), R: fc.constantFrom(1, 3), stride: fc.integer({ min: 1, max: 2 }), bias: fc.boolean(), seed: fc.nat(1000) }),
      ({ N, C, K, H, W, R, stride, bias, seed }) => {
        const gen = new Generator(seed);
        const g = windowGeometry('t', C, H, W, R, R, { stride, padding: R >> 1 });
        const n = N * K * g.P * g.Q;
        const x = up(be, rand(N * C * H * W, gen)), w = up(be, rand(K * C * R * R, gen)), b = bias ? up(be, rand(K, gen, -0.5, 0.5)) : null;
        const fused = be.alloc('float32', n), alone = be.alloc('float32', n);
        be.conv2dForward(x, N, w, K, b, g, fused, true);
        be.conv2dForward(x, N, w, K, null, g, alone);
        if (b) be.biasAdd(alone, b, N, K, g.P * g.Q, alone);
        be.unary('relu', alone, alone, n);
        const f = down(be, fused), a = down(be, alone);
        expect(f.every((v) => v >= 0)).toBe(true);
        expect(Array.from(f), JSON.stringify({ N, C, K, H, W, R, stride, bias })).toEqual(Array.from(a));
        // without relu, the bias alone: conv(x, w, b) = biasAdd(conv(x, w), b)
        if (b) {
          be.conv2dForward(x, N, w, K, b, g, fused, false);
          be.conv2dForward(x, N, w, K, null, g, alone);
          be.biasAdd(alone, b, N, K, g.P * g.Q, alone);
          expect(Array.from(down(be, fused))).toEqual(Array.from(down(be, alone)));
        }
      }), { numRuns: backend.name === 'webgpu' || backend.name === 'gpu' ? 8 : 30 });
  });

  it('linearForward equals x·wᵀ + b then the ReLU, and gives the bits of gemm, biasAdd and unary relu one by one (random shapes, with and without each)', () => {
    fc.assert(fc.property(
      fc.record({ N: fc.integer({ min: 1, max: 9 }), nin: fc.integer({ min: 0, max: 70 }), nout: fc.integer({ min: 1, max: 40 }), bias: fc.boolean(), relu: fc.boolean(), seed: fc.nat(1000) }),
      ({ N, nin, nout, bias, relu, seed }) => {
        const gen = new Generator(seed);
        const xh = rand(N * nin, gen), wh = rand(nout * nin, gen), bh = rand(nout, gen, -0.5, 0.5);
        const x = up(be, xh), w = up(be, wh), b = bias ? up(be, bh) : null;
        const n = N * nout, label = JSON.stringify({ N, nin, nout, bias, relu });
        // y holds NaN garbage first: the kernel overwrites it
        const fused = up(be, new Float32Array(n).fill(NaN)), alone = be.alloc('float32', n);
        be.linearForward(x, N, nin, w, nout, b, fused, relu);
        be.gemm(false, true, N, nout, nin, 1, x, 0, nin, w, 0, nin, 0, alone, 0, nout);
        if (b) be.biasAdd(alone, b, N, nout, 1, alone);
        if (relu) be.unary('relu', alone, alone, n);
        const f = down(be, fused);
        expect(Array.from(f), label).toEqual(Array.from(down(be, alone)));
        // and the value: y = max(0, x·wᵀ + b), from the textbook product
        const want = naiveGemm(false, true, N, nout, nin, 1, xh, nin, wh, nin, 0, new Float32Array(n), nout)
          .map((v, i) => (bias ? v + bh[i % nout]! : v))
          .map((v) => (relu ? Math.max(0, v) : v));
        expectClose(f, want, `linearForward ${label}`, 1e-4, 1e-4);
      }), {
      numRuns: backend.name === 'webgpu' || backend.name === 'gpu' ? 10 : 40,
      // an empty input (nin = 0: y is the bias, or 0) always, besides the random draws
      examples: [[{ N: 1, nin: 0, nout: 1, bias: false, relu: false, seed: 0 }], [{ N: 2, nin: 0, nout: 3, bias: true, relu: true, seed: 1 }]],
    });
  });

  it('max and average pooling, forward and backward, with padding and overlapping windows', () => {
    const gen = new Generator(4);
    const g = windowGeometry('t', 2, 5, 6, 3, 3, { stride: 2, padding: 1 });
    const N = 2, n = N * g.C * g.P * g.Q, HW = g.H * g.W;
    const perm = gen.permutation(N * g.C * HW);
    const x = Float32Array.from(perm, (v) => v / 7 - 3); // distinct values: unique maxima
    const y = be.alloc('float32', n), argmax = be.allocIndex(n);
    be.maxPoolForward(up(be, x), N, g, y, argmax);
    const dy = rand(n, gen);
    const dx = up(be, new Float32Array(N * g.C * HW).fill(0.5));
    be.maxPoolBackward(up(be, dy), argmax, N, g, dx);
    const ya = new Array<number>(n), dxr = new Array<number>(N * g.C * HW).fill(0.5), yavg = new Array<number>(n), dxa = new Array<number>(N * g.C * HW).fill(0);
    // countPad false: the divisor is the number of window cells inside the image
    const yin = new Array<number>(n), dxin = new Array<number>(N * g.C * HW).fill(0);
    for (let plane = 0; plane < N * g.C; plane++) for (let p = 0; p < g.P; p++) for (let q = 0; q < g.Q; q++) {
      let best = -Infinity, arg = -1, sum = 0, inside = 0;
      const o = plane * g.P * g.Q + p * g.Q + q;
      for (let r = 0; r < g.R; r++) for (let s = 0; s < g.S; s++) {
        const h = p * g.strideH - g.padH + r, w = q * g.strideW - g.padW + s;
        if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
        const v = x[plane * HW + h * g.W + w]!;
        sum += v;
        inside++;
        if (v > best) { best = v; arg = plane * HW + h * g.W + w; }
      }
      ya[o] = best;
      dxr[arg]! += dy[o]!;
      yavg[o] = sum / (g.R * g.S); // padding counts in the divisor
      yin[o] = sum / inside;
      for (let r = 0; r < g.R; r++) for (let s = 0; s < g.S; s++) {
        const h = p * g.strideH - g.padH + r, w = q * g.strideW - g.padW + s;
        if (h >= 0 && h < g.H && w >= 0 && w < g.W) {
          dxa[plane * HW + h * g.W + w]! += dy[o]! / (g.R * g.S);
          dxin[plane * HW + h * g.W + w]! += dy[o]! / inside;
        }
      }
    }
    expectClose(down(be, y), ya, 'maxPoolForward', 0, 0);
    expectClose(down(be, dx), dxr, 'maxPoolBackward (accumulates)', RTOL, ATOL);
    const yv = be.alloc('float32', n), dxv = be.alloc('float32', N * g.C * HW);
    be.avgPoolForward(up(be, x), N, g, true, yv);
    be.avgPoolBackward(up(be, dy), N, g, true, dxv);
    expectClose(down(be, yv), yavg, 'avgPoolForward', RTOL, ATOL);
    expectClose(down(be, dxv), dxa, 'avgPoolBackward', RTOL, ATOL);
    const yi = be.alloc('float32', n), dxi = up(be, new Float32Array(N * g.C * HW).fill(0.5));
    be.avgPoolForward(up(be, x), N, g, false, yi);
    be.avgPoolBackward(up(be, dy), N, g, false, dxi);
    expectClose(down(be, yi), yin, 'avgPoolForward, padding not counted', RTOL, ATOL);
    expectClose(down(be, dxi), dxin.map((v) => v + 0.5), 'avgPoolBackward, padding not counted (accumulates)', RTOL, ATOL);
  });

  it('unary ops and their derivatives, reading only what UNARY_BACKWARD_READS names', () => {
    const gen = new Generator(5);
    const f: Record<UnaryOp, (v: number) => number> = {
      neg: (v) => -v, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, abs: Math.abs, relu: (v) => Math.max(v, 0),
      logistic: (v) => 1 / (1 + Math.exp(-v)), tanh: Math.tanh,
    };
    const df: Record<UnaryOp, (v: number) => number> = {
      neg: () => -1, exp: Math.exp, log: (v) => 1 / v, sqrt: (v) => 0.5 / Math.sqrt(v), abs: Math.sign, relu: (v) => (v > 0 ? 1 : 0),
      logistic: (v) => { const s = 1 / (1 + Math.exp(-v)); return s * (1 - s); }, tanh: (v) => 1 - Math.tanh(v) ** 2,
    };
    for (const op of Object.keys(f) as UnaryOp[]) {
      const positive = op === 'log' || op === 'sqrt';
      const x = rand(40, gen, positive ? 0.1 : -3, 3);
      const dy = rand(40, gen);
      const xb = up(be, x), yb = be.alloc('float32', 40), dx = be.alloc('float32', 40);
      be.unary(op, xb, yb, 40);
      expectClose(down(be, yb), Array.from(x, f[op]), `unary ${op}`, RTOL, 1e-6);
      const reads = UNARY_BACKWARD_READS[op];
      be.unaryBackward(op, reads === 'x' ? xb : null, reads === 'y' ? yb : null, up(be, dy), dx, 40);
      expectClose(down(be, dx), Array.from(x, (v, i) => dy[i]! * df[op](v)), `unaryBackward ${op} (reads ${reads})`, 1e-4, 1e-5);
    }
  });

  it('binary ops over broadcast strided views, binaryScalar both ways, strided copy into a strided output', () => {
    const gen = new Generator(6);
    const shape = [2, 3, 4];
    const a = rand(2 * 3 * 4 + 1, gen), b = rand(3, gen, 0.5, 2); // a at offset 1; b [3] broadcast along axes 0 and 2
    const fns: Record<BinaryOp, (x: number, y: number) => number> = {
      add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y, max: Math.max, min: Math.min, ge: (x, y) => (x >= y ? 1 : 0),
    };
    for (const op of Object.keys(fns) as BinaryOp[]) {
      const out = be.alloc('float32', 24);
      be.binary(op, { data: up(be, a), offset: 1, shape, strides: [12, 4, 1] }, { data: up(be, b), offset: 0, shape, strides: [0, 1, 0] }, out);
      const ref = Array.from({ length: 24 }, (_, i) => fns[op](a[1 + i]!, b[Math.floor(i / 4) % 3]!));
      expectClose(down(be, out), ref, `binary ${op}`, RTOL, 1e-7);
      const s = be.alloc('float32', 24), r = be.alloc('float32', 24);
      be.binaryScalar(op, up(be, a.subarray(1)), 1.5, s, 24, false);
      be.binaryScalar(op, up(be, a.subarray(1)), 1.5, r, 24, true);
      expectClose(down(be, s), Array.from(a.subarray(1), (v) => fns[op](v, 1.5)), `binaryScalar ${op}`, RTOL, 1e-7);
      expectClose(down(be, r), Array.from(a.subarray(1), (v) => fns[op](1.5, v)), `binaryScalar ${op} reversed`, RTOL, 1e-7);
    }
    // ge and max agree on NaN: max takes a NaN a, ge says 1
    const nan = be.alloc('float32', 1);
    be.binary('ge', { data: up(be, [NaN]), offset: 0, shape: [1], strides: [1] }, { data: up(be, [0]), offset: 0, shape: [1], strides: [1] }, nan);
    expect(down(be, nan)[0]).toBe(1);
    // copy a transposed [4, 3] view of a [3, 4] matrix into the odd columns of a [4, 6] matrix
    const m = rand(12, gen);
    const wide = up(be, new Float32Array(24).fill(7));
    be.copy({ data: up(be, m), offset: 0, shape: [4, 3], strides: [1, 4] }, { data: wide, offset: 1, shape: [4, 3], strides: [6, 2] });
    const w = down(be, wide);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) expect(w[i * 6 + j]).toBe(j % 2 === 1 ? m[(j >> 1) * 4 + i]! : 7);
  });

  it('reduce sum/max with argmax, scatterAdd, sumOfSquares', () => {
    const gen = new Generator(7);
    const shape = [3, 4, 5], x = rand(60, gen);
    const sum = be.alloc('float32', 4), mx = be.alloc('float32', 4), arg = be.allocIndex(4);
    be.reduce('sum', up(be, x), shape, [0, 2], sum);
    be.reduce('max', up(be, x), shape, [0, 2], mx, arg);
    const rs = new Array<number>(4).fill(0), rm = new Array<number>(4).fill(-Infinity), ra = new Array<number>(4).fill(-1);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) {
      const idx = i * 20 + j * 5 + k;
      rs[j]! += x[idx]!;
      if (x[idx]! > rm[j]!) { rm[j] = x[idx]!; ra[j] = idx; }
    }
    expectClose(down(be, sum), rs, 'reduce sum', RTOL, ATOL);
    expectClose(down(be, mx), rm, 'reduce max', 0, 0);
    const dy = rand(4, gen);
    const dx = up(be, new Float32Array(60).fill(1));
    be.scatterAdd(up(be, dy), arg, 4, dx);
    const dxr = new Array<number>(60).fill(1);
    ra.forEach((j, i) => (dxr[j]! += dy[i]!));
    expectClose(down(be, dx), dxr, 'scatterAdd to the argmax', RTOL, ATOL);
    expect(be.sumOfSquares(up(be, x), 10, 20)).toBeCloseTo(x.subarray(10, 30).reduce((s, v) => s + v * v, 0), 5);
  });

  it('softmax and log-softmax rows, and their backward from the output', () => {
    const gen = new Generator(8);
    const rows = 3, cols = 5, x = rand(rows * cols, gen, -4, 4), dy = rand(rows * cols, gen);
    for (const log of [false, true]) {
      const y = be.alloc('float32', 15), dx = be.alloc('float32', 15);
      be.softmax(up(be, x), rows, cols, log, y);
      be.softmaxBackward(y, up(be, dy), rows, cols, log, dx);
      const yr: number[] = [], dxr: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
        const z = row.reduce((s, v) => s + Math.exp(v), 0);
        const p = row.map((v) => Math.exp(v) / z);
        const g = Array.from(dy.subarray(r * cols, (r + 1) * cols));
        yr.push(...(log ? p.map(Math.log) : p));
        // J of softmax: diag(p) − p pᵀ; of log-softmax: I − 1 pᵀ
        const gp = dot(g, p), gs = g.reduce((s, v) => s + v, 0);
        dxr.push(...p.map((pi, i) => (log ? g[i]! - pi * gs : pi * (g[i]! - gp))));
      }
      expectClose(down(be, y), yr, `softmax log=${log}`, 1e-5, 1e-6);
      expectClose(down(be, dx), dxr, `softmaxBackward log=${log}`, 1e-4, 1e-6);
    }
  });

  it('costRows and costGrad: neon\'s CrossEntropyBinary, CrossEntropyMulti, SumSquared', () => {
    const gen = new Generator(9);
    const rows = 4, K = 3;
    const y = rand(rows * K, gen, 0.05, 0.95), t = Float32Array.from({ length: rows * K }, (_, i) => (i % K === i % 2 ? 1 : 0));
    const terms = {
      CrossEntropyBinary: [(v: number, u: number) => -u * Math.log(v) - (1 - u) * Math.log(1 - v), (v: number, u: number) => -u / v + (1 - u) / (1 - v)],
      CrossEntropyMulti: [(v: number, u: number) => -u * Math.log(v), (v: number, u: number) => -u / v],
      SumSquared: [(v: number, u: number) => 0.5 * (v - u) ** 2, (v: number, u: number) => v - u],
    } as const;
    for (const [name, [f, df]] of Object.entries(terms) as [keyof typeof terms, (typeof terms)[keyof typeof terms]][]) {
      const out = be.alloc('float32', rows), dy = be.alloc('float32', rows * K);
      be.costRows(name, up(be, y), up(be, t), rows, K, out);
      be.costGrad(name, up(be, y), up(be, t), rows * K, 0.25, dy);
      const cr = Array.from({ length: rows }, (_, r) => { let s = 0; for (let k = 0; k < K; k++) s += f(y[r * K + k]!, t[r * K + k]!); return s; });
      expectClose(down(be, out), cr, `costRows ${name}`, 1e-5, 1e-6);
      expectClose(down(be, dy), Array.from(y, (v, i) => 0.25 * df(v, t[i]!)), `costGrad ${name}`, 1e-5, 1e-6);
    }
    // safelog clamps at e^-50: y = 0 with t = 1 costs 50, and its gradient is 0, not infinite
    const out = be.alloc('float32', 1), dy = be.alloc('float32', 1);
    be.costRows('CrossEntropyMulti', up(be, [0]), up(be, [1]), 1, 1, out);
    be.costGrad('CrossEntropyMulti', up(be, [0]), up(be, [1]), 1, 1, dy);
    expect(down(be, out)[0]).toBeCloseTo(50, 4);
    expect(Math.abs(down(be, dy)[0]!)).toBe(0);
  });

  it('biasAdd and biasBackward (set and accumulate)', () => {
    const gen = new Generator(10);
    const N = 2, C = 3, HW = 4, x = rand(N * C * HW, gen), b = rand(C, gen), dy = rand(N * C * HW, gen);
    const y = be.alloc('float32', N * C * HW);
    be.biasAdd(up(be, x), up(be, b), N, C, HW, y);
    expectClose(down(be, y), Array.from(x, (v, i) => v + b[Math.floor(i / HW) % C]!), 'biasAdd', RTOL, 1e-7);
    const db = up(be, [1, 1, 1]);
    const ref = [0, 0, 0];
    dy.forEach((v, i) => (ref[Math.floor(i / HW) % C]! += v));
    be.biasBackward(up(be, dy), N, C, HW, db, false);
    expectClose(down(be, db), ref, 'biasBackward', RTOL, ATOL);
    be.biasBackward(up(be, dy), N, C, HW, db, true);
    expectClose(down(be, db), ref.map((v) => 2 * v), 'biasBackward accumulate', RTOL, ATOL);
  });

  it('dropoutMask draws one random number per element, in order', () => {
    const draws = [0.1, 0.6, 0.29, 0.3, 0.95, 0.0];
    let i = 0;
    const mask = be.alloc('float32', 6);
    be.dropoutMask(mask, 6, 0.3, 2.5, () => draws[i++]!);
    expect(i).toBe(6);
    expect(Array.from(down(be, mask))).toEqual([2.5, 0, 2.5, 0, 0, 2.5]);
  });

  it('gdmUpdate follows neon\'s momentum SGD (with weight decay, clips, Nesterov; the lr = 0 and μ = 0 branches)', () => {
    const gen = new Generator(11);
    const n = 16;
    const base = { lr: 0.1, scale: 0.8, bsz: 4, mu: 0.9, wdecay: 0.01, nesterov: false, gclip: null, pclip: null } satisfies GdmStep;
    const steps: GdmStep[] = [
      base, { ...base, nesterov: true }, { ...base, gclip: 0.05, pclip: 0.5 }, { ...base, mu: 0 }, { ...base, lr: 0 }, { ...base, lr: 0, pclip: 0.3 },
    ];
    for (const s of steps) {
      const p = rand(n, gen), g = rand(n, gen, -2, 2), v = rand(n, gen, -0.1, 0.1);
      const pr = Float64Array.from(p), vr = Float32Array.from(v);
      for (let i = 0; i < n; i++) {
        let gi = g[i]! / s.bsz;
        if (s.gclip !== null) gi = Math.min(Math.max(gi, -s.gclip), s.gclip);
        if (s.mu === 0) { pr[i] = -s.lr * s.scale * gi + (1 - s.lr * s.wdecay) * p[i]!; continue; }
        const gp = s.lr === 0 ? 0 : s.scale * gi + s.wdecay * p[i]!;
        vr[i] = s.mu * v[i]! - s.lr * gp;
        let next = p[i]! + (s.nesterov ? s.mu * vr[i]! - s.lr * gp : vr[i]!);
        if (s.pclip !== null) next = Math.min(Math.max(next, -s.pclip), s.pclip);
        pr[i] = next;
      }
      const pb = up(be, p), vb = s.mu === 0 ? null : up(be, v);
      be.gdmUpdate(pb, s.lr === 0 ? null : up(be, g), vb, n, s);
      const label = JSON.stringify(s);
      expectClose(down(be, pb), pr, `gdmUpdate param ${label}`, 1e-6, 1e-7);
      if (vb) expectClose(down(be, vb), vr, `gdmUpdate velocity ${label}`, 1e-6, 1e-7);
    }
  });

  // Runs last (tests run in order): a kernel of the interface that no test above called is a gap in the suite.
  it('the tests above call every method of the Backend interface', () => {
    expect(KERNELS.filter((k) => !seen.has(k))).toEqual([]);
  });
});

// ---- Every backend against the reference backend on random inputs -------------------------

const others = BACKENDS.filter((b) => b !== referenceBackend());

describe.each(others.map((b) => [b.name, b] as const))('backend %s against the reference backend (random shapes)', (_name, backend) => {
  const ref = referenceBackend();
  const seen = new Set<string>();
  const be = tracked(backend, seen);
  /** Runs `fn` on both backends with the same host inputs; compares the outputs it returns. */
  function same(what: string, fn: (b: Backend, up: (a: FloatArray) => DeviceBuffer) => DeviceBuffer[]): void {
    const outA = fn(be, (a) => be.upload(Float32Array.from(a))).map((o) => down(be, o));
    const outR = fn(ref, (a) => ref.upload(Float32Array.from(a))).map((o) => down(ref, o));
    // Sums (gemm, conv weight gradients) may cancel down to a small value whose float32
    // rounding error follows the size of the terms, not of the result; a backend that fuses
    // multiply-add or sums in another order differs there. So the absolute tolerance scales
    // with the output's largest magnitude, and the relative one holds everywhere else.
    outA.forEach((o, i) => {
      const scale = outR[i]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expectClose(o, outR[i]!, `${what} (output ${i})`, 1e-5, 1e-6 + 1e-5 * scale);
    });
  }

  it('gemm, conv2d forward/backward, linearForward and pooling', () => {
    fc.assert(fc.property(
      fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 4 }), K: fc.integer({ min: 1, max: 4 }), H: fc.integer({ min: 3, max: 9 }), W: fc.integer({ min: 3, max: 9 }), R: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), pad: fc.integer({ min: 0, max: 1 }), seed: fc.nat(1000) }),
      ({ N, C, K, H, W, R, stride, pad, seed }) => {
        const gen = new Generator(seed);
        const g = windowGeometry('t', C, H, W, R, R, { stride, padding: pad });
        const x = rand(N * C * H * W, gen), w = rand(K * C * R * R, gen), dy = rand(N * K * g.P * g.Q, gen);
        same(`conv2d ${JSON.stringify({ N, C, K, H, W, R, stride, pad })}`, (b, u) => {
          const y = b.alloc('float32', N * K * g.P * g.Q), dx = b.alloc('float32', x.length), dw = b.alloc('float32', w.length);
          b.conv2dForward(u(x), N, u(w), K, null, g, y);
          b.conv2dBackward(u(x), N, u(w), K, g, u(dy), dx, dw, null);
          return [y, dx, dw];
        });
        const M = C * H, Nn = W, Kk = N + 1;
        const A = rand(M * Kk, gen), B = rand(Kk * Nn, gen);
        same('gemm', (b, u) => { const c = b.alloc('float32', M * Nn); b.gemm(false, false, M, Nn, Kk, 1, u(A), 0, Kk, u(B), 0, Nn, 0, c, 0, Nn); return [c]; });
        const xs = rand(N * C * H, gen), ws = rand(W * C * H, gen), bs = rand(W, gen);
        same('linearForward', (b, u) => { const y = b.alloc('float32', N * W); b.linearForward(u(xs), N, C * H, u(ws), W, u(bs), y, pad === 1); return [y]; });
        const pg = windowGeometry('t', C, H, W, 2, 2, { stride: 2 });
        same('pooling', (b, u) => {
          const n = N * C * pg.P * pg.Q, y = b.alloc('float32', n), a = b.allocIndex(n), dx = b.alloc('float32', x.length);
          b.maxPoolForward(u(x), N, pg, y, a);
          b.maxPoolBackward(u(rand(n, new Generator(seed))), a, N, pg, dx);
          return [y, dx];
        });
      }), { numRuns: 25 });
  });

  it('elementwise, reductions, softmax, costs on random shapes', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.nat(1000), (shape, seed) => {
      const gen = new Generator(seed);
      const n = shape.reduce((a, b) => a * b, 1), x = rand(n, gen, 0.05, 0.95), t = rand(n, gen, 0, 1);
      const cols = shape[shape.length - 1]!, rows = n / cols;
      same(`elementwise ${JSON.stringify(shape)}`, (b, u) => {
        const outs: DeviceBuffer[] = [];
        for (const op of ['relu', 'logistic', 'tanh', 'log'] as UnaryOp[]) {
          const y = b.alloc('float32', n), dx = b.alloc('float32', n);
          b.unary(op, u(x), y, n);
          b.unaryBackward(op, u(x), y, u(t), dx, n);
          outs.push(y, dx);
        }
        const s = b.alloc('float32', n), dxs = b.alloc('float32', n);
        b.softmax(u(x), rows, cols, false, s);
        b.softmaxBackward(s, u(t), rows, cols, false, dxs);
        const red = b.alloc('float32', n / shape[0]!);
        b.reduce('sum', u(x), shape, [0], red);
        const tr = b.alloc('float32', n);
        b.copy({ data: u(x), offset: 0, shape, strides: contiguousStrides(shape) }, { data: tr, offset: 0, shape, strides: contiguousStrides(shape) });
        const c = b.alloc('float32', rows), dc = b.alloc('float32', n);
        b.costRows('CrossEntropyBinary', u(x), u(t), rows, cols, c);
        b.costGrad('CrossEntropyBinary', u(x), u(t), n, 1, dc);
        return [...outs, s, dxs, red, tr, c, dc];
      });
    }), { numRuns: 40 });
  });

  it('the other kernels on random shapes: im2col/col2im, average pooling, binary ops, max-reduce and its scatter, bias, dropout masks, the gdm step', () => {
    const UNARY: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'logistic', 'tanh'];
    const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'ge'];
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 2, max: 7 }), W: fc.integer({ min: 2, max: 7 }),
        R: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }), pad: fc.integer({ min: 0, max: 1 }), dil: fc.integer({ min: 1, max: 2 }),
        countPad: fc.boolean(), log: fc.boolean(), seed: fc.nat(1000),
      }).filter(({ H, W, R, pad, dil }) => H + 2 * pad > dil * (R - 1) && W + 2 * pad > dil * (R - 1)),
      ({ N, C, H, W, R, stride, pad, dil, countPad, log, seed }) => {
        const gen = new Generator(seed);
        const label = JSON.stringify({ N, C, H, W, R, stride, pad, dil, countPad, log });
        const CHW = C * H * W, n = N * CHW;
        const x = rand(n, gen, 0.05, 2), t = rand(n, gen, 0, 1), dyx = rand(n, gen);
        // im2col of image 1 into the second block of two, col2im back into dx (accumulating)
        const g = windowGeometry('t', C, H, W, R, R, { stride, padding: pad, dilation: dil });
        const CRS = C * R * R, PQ = g.P * g.Q;
        const u = rand(CRS * PQ * 2, gen);
        same(`im2col/col2im ${label}`, (b, up) => {
          const cols = b.alloc('float32', CRS * PQ * 2), dx = up(dyx);
          b.im2col(up(x), N > 1 ? CHW : 0, g, cols, PQ, 2 * PQ);
          b.col2im(up(u), g, dx, 0, PQ, 2 * PQ);
          return [cols, dx];
        });
        // average pooling (a window that fits the padded image), both divisors
        const pg = windowGeometry('t', C, H, W, Math.min(R, H), Math.min(R, W), { stride, padding: Math.min(pad, Math.min(R, H, W) >> 1) });
        const dyp = rand(N * C * pg.P * pg.Q, gen);
        same(`avgPool ${label}`, (b, up) => {
          const y = b.alloc('float32', N * C * pg.P * pg.Q), dx = up(dyx);
          b.avgPoolForward(up(x), N, pg, countPad, y);
          b.avgPoolBackward(up(dyp), N, pg, countPad, dx);
          return [y, dx];
        });
        // every unary op and its derivative; log-softmax or softmax rows
        same(`unary, softmax ${label}`, (b, up) => UNARY.flatMap((op) => {
          const y = b.alloc('float32', n), dx = b.alloc('float32', n);
          b.unary(op, up(x), y, n);
          b.unaryBackward(op, up(x), y, up(dyx), dx, n);
          return [y, dx];
        }).concat((() => {
          const y = b.alloc('float32', n), dx = b.alloc('float32', n);
          b.softmax(up(x), N * C, H * W, log, y);
          b.softmaxBackward(y, up(dyx), N * C, H * W, log, dx);
          return [y, dx];
        })()));
        // binary ops with b [C, 1, W] broadcast over x [N, C, H, W]; scalar both ways; a transposed copy into a strided output
        const bc = rand(C * W, gen, 0.5, 2);
        same(`binary ${label}`, (b, up) => BINARY.flatMap((op) => {
          const out = b.alloc('float32', n), s = b.alloc('float32', n), r = b.alloc('float32', n);
          b.binary(op, { data: up(x), offset: 0, shape: [N, C, H, W], strides: [CHW, H * W, W, 1] }, { data: up(bc), offset: 0, shape: [N, C, H, W], strides: [0, W, 0, 1] }, out);
          b.binaryScalar(op, up(x), 0.75, s, n, false);
          b.binaryScalar(op, up(x), 0.75, r, n, true);
          return [out, s, r];
        }).concat((() => {
          // x read as [N·C, W, H] and transposed to [N·C, H, W], written into every other H×W plane of a [2·N·C, H, W] buffer
          const wide = up(rand(2 * n, new Generator(seed)));
          b.copy({ data: up(x), offset: 0, shape: [N * C, H, W], strides: [H * W, 1, H] }, { data: wide, offset: H * W, shape: [N * C, H, W], strides: [2 * H * W, W, 1] });
          return [wide];
        })()));
        // max over axes (1, 3) and its scatter; sum of squares (as a one-value buffer)
        same(`max-reduce, scatterAdd, sumOfSquares ${label}`, (b, up) => {
          const m = N * H, mx = b.alloc('float32', m), arg = b.allocIndex(m), dx = up(dyx);
          b.reduce('max', up(x), [N, C, H, W], [1, 3], mx, arg);
          b.scatterAdd(up(rand(m, new Generator(seed))), arg, m, dx);
          return [mx, dx, b.upload(Float32Array.of(b.sumOfSquares(up(x), 1, n - 1)))];
        });
        // bias over [N, C, HW]; every cost
        same(`bias, costs ${label}`, (b, up) => {
          const y = b.alloc('float32', n), db = up(rand(C, new Generator(seed)));
          b.biasAdd(up(x), up(bc.subarray(0, C)), N, C, H * W, y);
          b.biasBackward(up(dyx), N, C, H * W, db, true);
          const costs = (['CrossEntropyBinary', 'CrossEntropyMulti', 'SumSquared'] as const).flatMap((cost) => {
            const yc = up(x.map((v) => v / 2.5)), rows = b.alloc('float32', N), dy = b.alloc('float32', n);
            b.costRows(cost, yc, up(t), N, CHW, rows);
            b.costGrad(cost, yc, up(t), n, 0.5, dy);
            return [rows, dy];
          });
          return [y, db, ...costs];
        });
        // a dropout mask from the same draws; one gdm step (momentum, Nesterov, clips) and one without momentum
        same(`dropoutMask, gdmUpdate ${label}`, (b, up) => {
          const draws = new Generator(seed), mask = b.alloc('float32', n);
          b.dropoutMask(mask, n, 0.6, 1 / 0.6, () => draws.random());
          const p = up(x), v = up(t.map((e) => e / 10 - 0.05)), p0 = up(x);
          const step: GdmStep = { lr: 0.1, scale: 0.9, bsz: N, mu: 0.9, wdecay: 5e-4, nesterov: log, gclip: countPad ? 0.2 : null, pclip: countPad ? 1.5 : null };
          b.gdmUpdate(p, up(dyx), v, n, step);
          b.gdmUpdate(p0, up(dyx), null, n, { ...step, mu: 0 });
          return [mask, p, v, p0];
        });
      }), { numRuns: 15 });
  });

  // Runs last: every kernel of the interface has been compared with the reference above.
  it('the tests above compare every kernel of the Backend interface', () => {
    expect(KERNELS.filter((k) => !(STORAGE_METHODS as readonly string[]).includes(k) && !seen.has(k))).toEqual([]);
  });
});
