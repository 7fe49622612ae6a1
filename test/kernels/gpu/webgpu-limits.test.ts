// The webgpu backend at its limits, forced small here (TL_WEBGPU_MAX_BINDING: 64 KiB bindings,
// TL_WEBGPU_MAX_BUFFER: 4 MiB buffers; set before the backend starts in this test file's
// worker): arrays larger than one storage binding are bound in parts (gemm in blocks, pointwise
// kernels in windows, every other kernel in pieces of planes, images, channels, rows or
// slabs; softmax and the costs over rows longer than a binding in chunks of columns) and
// give the reference's results; a reduced VGG-16 trains with 16 KiB bindings as
// it does unsplit; a piece that cannot shrink below one binding, and a model whose weights
// exceed the largest buffer, are refused naming the kernel or layer, the size and the limit;
// the device asks for every limit the adapter offers; a fused kernel variant is compiled once.
import { describe, expect, it } from 'vitest';
import type { Backend, DeviceBuffer } from '../../../src/kernels/backend.js';
import { backend, getBackend, setBackend } from '../../../src/kernels/index.js';
import { windowGeometry } from '../../../src/kernels/geometry.js';
import { webgpuDebugMaxBinding, webgpuInfo, webgpuStats } from '../../../src/kernels/gpu/webgpu/index.js';
import { Affine, Gaussian } from '../../../src/layers/index.js';
import { Model } from '../../../src/models/model.js';
import { BackendError } from '../../../src/util/errors.js';
import { Generator, manualSeed } from '../../../src/index.js';
import { ArrayIterator } from '../../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../../src/models/vgg16.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../../src/models/cost.js';
import { GradientDescentMomentum } from '../../../src/optim/index.js';
import { referenceBackend, webgpuUsable } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/check.js';
import { checkLongRows } from '../../helpers/long-rows.js';

const BINDING = 64 * 1024, BUFFER = 4 * 1024 * 1024;
process.env.TL_WEBGPU_MAX_BINDING = String(BINDING);
process.env.TL_WEBGPU_MAX_BUFFER = String(BUFFER);

const rand = (n: number, seed: number): Float32Array => {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.uniform(-1, 1));
};
/** Runs `f` on the reference and on webgpu with the same inputs; compares what it returns. */
function same(what: string, f: (b: Backend, up: (a: Float32Array) => DeviceBuffer) => DeviceBuffer[]): void {
  const run = (b: Backend) => f(b, (a) => b.upload(a.slice())).map((o) => Float32Array.from(b.read(o, 0, b.lengthOf(o))));
  const got = run(getBackend('webgpu')), want = run(referenceBackend());
  got.forEach((o, i) => {
    const scale = want[i]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(o, want[i]!, `${what} (output ${i})`, 1e-5, 1e-6 + 1e-5 * scale);
  });
}

describe.runIf(webgpuUsable())('webgpu backend with small forced limits', () => {
  it('asks the device for every limit the adapter offers; the forced limits are what it works with', () => {
    const i = webgpuInfo();
    expect(Object.keys(i.adapterLimits).length).toBeGreaterThan(10);
    for (const [k, v] of Object.entries(i.adapterLimits)) expect(i.limits[k], k).toBe(v);
    expect(i.maxBinding).toBe(BINDING);
    expect(i.maxBuffer).toBe(BUFFER);
  });

  it('gemm with every operand larger than one binding, every transpose, offsets, padding, alpha and beta, equals the reference', () => {
    const M = 150, N = 130, K = 140; // 21,000 and 19,500 values: more than the 16,384 of one binding
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const lda = (tA ? M : K) + 3, ldb = (tB ? K : N) + 1, ldc = N + 2;
        const A = rand((tA ? K : M) * lda + 5, 1), B = rand((tB ? N : K) * ldb + 7, 2), C = rand(M * ldc + 9, 3);
        same(`gemm ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`, (b, up) => {
          const c = up(C);
          b.gemm(tA, tB, M, N, K, 0.75, up(A), 5, lda, up(B), 7, ldb, 0.5, c, 9, ldc);
          return [c];
        });
      }
    }
  });

  it('a convolution whose weights exceed one binding (48→48, 3×3): forward with the fused bias and ReLU, and all three gradients', () => {
    const N = 2, C = 48, K = 48, H = 5, W = 6;
    const g = windowGeometry('t', C, H, W, 3, 3, { padding: 1 });
    const x = rand(N * C * H * W, 4), w = rand(K * C * 9, 5), bias = rand(K, 6), dy = rand(N * K * g.P * g.Q, 7);
    expect(4 * w.length).toBeGreaterThan(BINDING);
    same('conv', (b, up) => {
      const y = b.alloc('float32', N * K * g.P * g.Q), dx = b.alloc('float32', x.length), dw = up(rand(w.length, 8)), db = b.alloc('float32', K);
      const X = up(x), Wt = up(w);
      b.conv2dForward(X, N, Wt, K, up(bias), g, y, true);
      b.conv2dBackward(X, N, Wt, K, g, up(dy), dx, dw, db);
      return [y, dx, dw, db];
    });
  });

  it('pointwise kernels and fill over arrays larger than one binding run in windows', () => {
    const n = 50_000;
    const x = rand(n, 9), g0 = rand(n, 10), v0 = rand(n, 11);
    same('pointwise', (b, up) => {
      const y = b.alloc('float32', n), p = up(x), v = up(v0);
      b.unary('relu', up(x), y, n);
      b.binaryScalar('mul', y, 3, y, n, false);
      b.gdmUpdate(p, up(g0), v, n, { lr: 0.1, scale: 1, bsz: 2, mu: 0.9, wdecay: 1e-3, nesterov: false, gclip: null, pclip: null });
      const f = up(x);
      b.fill(f, 7, 1000, 40_000);
      return [y, p, v, f];
    });
  });

  it('max and average pooling, forward and backward, over more planes than one binding holds (pieces of planes), equal the reference', () => {
    const N = 3, C = 5, H = 40, W = 37; // 22,200 values in, more than the 16,384 of one binding
    for (const g of [windowGeometry('t', C, H, W, 3, 3, { stride: 2, padding: 1 }), windowGeometry('t', C, H, W, 2, 2, { stride: 2 })]) {
      const x = rand(N * C * H * W, 13), dy = rand(N * C * g.P * g.Q, 14), dx0 = rand(N * C * H * W, 15);
      same(`pooling ${g.R}×${g.S}`, (b, up) => {
        const n = N * C * g.P * g.Q, y = b.alloc('float32', n), am = b.allocIndex(n), dx = up(dx0), ya = b.alloc('float32', n), yb = b.alloc('float32', n), dxa = up(dx0), dxb = b.alloc('float32', x.length);
        b.maxPoolForward(up(x), N, g, y, am);
        b.maxPoolBackward(up(dy), am, N, g, dx);
        b.avgPoolForward(up(x), N, g, true, ya);
        b.avgPoolBackward(up(dy), N, g, true, dxa);
        b.avgPoolForward(up(x), N, g, false, yb);
        b.avgPoolBackward(up(dy), N, g, false, dxb);
        return [y, dx, ya, dxa, yb, dxb];
      });
    }
  });

  it('im2col and col2im of an image larger than one binding (pieces of rows of the columns, inside a channel too), at offsets, into a wider matrix, equal the reference', () => {
    const g = windowGeometry('t', 12, 40, 41, 3, 3, { padding: 1, stride: 1 }); // an image of 19,680 values, columns of 177,120
    const CHW = g.C * g.H * g.W, CRS = g.C * g.R * g.S, PQ = g.P * g.Q, ld = 2 * PQ + 5;
    const x = rand(CHW + 7, 16), c0 = rand(CRS * ld + 9, 17), d0 = rand(CHW + 3, 18);
    same('im2col, col2im', (b, up) => {
      const cols = up(c0), dx = up(d0);
      b.im2col(up(x), 7, g, cols, 9 + PQ, ld);
      b.col2im(up(c0), g, dx, 3, 9, ld);
      return [cols, dx];
    });
  });

  it('a convolution whose activations exceed one binding (images in pieces for im2col, col2im and the bias gradient): forward with the fused bias and ReLU, and all three gradients', () => {
    const N = 5, C = 6, K = 7, H = 23, W = 22; // x: 15,180 values per batch … per 5 images; y and dy: 17,710
    const g = windowGeometry('t', C, H, W, 3, 3, { padding: 1 });
    const x = rand(N * C * H * W, 19), w = rand(K * C * 9, 20), bias = rand(K, 21), dy = rand(N * K * g.P * g.Q, 22);
    expect(4 * dy.length).toBeGreaterThan(BINDING);
    same('conv with large activations', (b, up) => {
      const y = b.alloc('float32', dy.length), dx = b.alloc('float32', x.length), dw = up(rand(w.length, 23)), db = up(rand(K, 24));
      const X = up(x), Wt = up(w);
      b.conv2dForward(X, N, Wt, K, up(bias), g, y, true);
      b.conv2dBackward(X, N, Wt, K, g, up(dy), dx, dw, db);
      return [y, dx, dw, db];
    });
  });

  it('biasAdd (element ranges) and biasBackward (pieces of images; channels of one image larger than a binding), set and accumulated, in place too', () => {
    for (const [N, C, HW] of [[3, 7, 1000], [2, 20, 1000], [40, 1000, 1]] as const) {
      const x = rand(N * C * HW, 25), b0 = rand(C, 26), dy = rand(N * C * HW, 27), db0 = rand(C, 28);
      same(`bias ${N}×${C}×${HW}`, (b, up) => {
        const y = b.alloc('float32', x.length), inPlace = up(x), db = b.alloc('float32', C), dba = up(db0);
        b.biasAdd(up(x), up(b0), N, C, HW, y);
        b.biasAdd(inPlace, up(b0), N, C, HW, inPlace);
        b.biasBackward(up(dy), N, C, HW, db, false);
        b.biasBackward(up(dy), N, C, HW, dba, true);
        return [y, inPlace, db, dba];
      });
    }
  });

  it('softmax, log-softmax and their backward, costRows and costGrad over more rows than one binding holds (pieces of rows)', () => {
    const rows = 300, cols = 100;
    const x = rand(rows * cols, 29), dy = rand(rows * cols, 30), t = Float32Array.from(rand(rows * cols, 31), (v) => (v > 0 ? 1 : 0));
    same('softmax, costs', (b, up) => {
      const outs = [];
      for (const log of [false, true]) {
        const y = b.alloc('float32', x.length), dx = b.alloc('float32', x.length);
        b.softmax(up(x), rows, cols, log, y);
        b.softmaxBackward(y, up(dy), rows, cols, log, dx);
        outs.push(y, dx);
      }
      const p = b.alloc('float32', x.length), c = b.alloc('float32', rows), g = b.alloc('float32', x.length);
      b.softmax(up(x), rows, cols, false, p);
      b.costRows('CrossEntropyMulti', p, up(t), rows, cols, c);
      b.costGrad('CrossEntropyBinary', p, up(t), rows * cols, 0.5, g);
      return [...outs, c, g];
    });
  });

  it('softmax, its backward and costRows over rows longer than one binding and than llvmpipe\'s 65535 loop steps (2 × 70,000 columns, in chunks of columns) equal the reference within 1e-4', () => {
    expect(4 * 70_000).toBeGreaterThan(BINDING);
    checkLongRows(getBackend('webgpu'), 2, 70_000, 1e-4);
  }, 120_000);

  it('binary ops over broadcast and transposed views, and the strided copy, larger than one binding (slabs of the leading axes; a row alone too long)', () => {
    const a = rand(200 * 150, 32), z = rand(150, 33), c = rand(2 * 20_000, 34), big = rand(2 * 20_000, 35);
    same('binary, copy', (b, up) => {
      const A = up(a), Z = up(z), C2 = up(c), out1 = b.alloc('float32', 200 * 150), out2 = b.alloc('float32', 200 * 150), out3 = b.alloc('float32', 2 * 20_000);
      // a [200, 150] ∘ z broadcast over rows; aᵀ [150, 200] ∘ itself reversed along rows (a negative stride)
      b.binary('sub', { data: A, offset: 0, shape: [200, 150], strides: [150, 1] }, { data: Z, offset: 0, shape: [200, 150], strides: [0, 1] }, out1);
      b.binary('max', { data: A, offset: 0, shape: [150, 200], strides: [1, 150] }, { data: A, offset: 149, shape: [150, 200], strides: [-1, 150] }, out2);
      b.binary('mul', { data: C2, offset: 0, shape: [2, 20_000], strides: [20_000, 1] }, { data: up(big), offset: 0, shape: [2, 20_000], strides: [20_000, 1] }, out3);
      // the copy: a transposed into a strided output with gaps, and in place (the same buffer)
      const dst = b.alloc('float32', 150 * 205);
      b.copy({ data: A, offset: 0, shape: [150, 200], strides: [1, 150] }, { data: dst, offset: 3, shape: [150, 200], strides: [205, 1] });
      const self = up(a);
      b.copy({ data: self, offset: 150, shape: [199, 150], strides: [150, 1] }, { data: self, offset: 0, shape: [199, 150], strides: [150, 1] });
      return [out1, out2, out3, dst, self];
    });
  });

  it('reduce (sum, max with argmax) over every axis set of an array larger than one binding, and scatterAdd into one', () => {
    const shape = [30, 40, 25], n = 30 * 40 * 25;
    const x = rand(n, 36);
    x[7] = x[1007] = 5; // a repeated maximum: the first one's index
    for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2], [1, 2]]) {
      const nOut = shape.reduce((p, d, k) => p * (axes.includes(k) ? 1 : d), 1);
      same(`reduce over ${axes.join(',')}`, (b, up) => {
        const s = b.alloc('float32', nOut), m = b.alloc('float32', nOut), am = b.allocIndex(nOut);
        b.reduce('sum', up(x), shape, axes, s);
        b.reduce('max', up(x), shape, axes, m, am);
        // the argmax indices, compared through the scatter of the max-reduce's backward (x-sized: larger than a binding)
        const at = b.alloc('float32', n);
        b.scatterAdd(up(new Float32Array(nOut).fill(1)), am, nOut, at);
        return [s, m, at];
      });
    }
    // argmax of rows of 2 (30,000 indices into x) scattered into an x-sized target, by parts of it
    same('scatterAdd', (b, up) => {
      const m = b.alloc('float32', n / 2), am = b.allocIndex(n / 2), dx = up(rand(n, 37));
      b.reduce('max', up(x), [n / 2, 2], [1], m, am);
      b.scatterAdd(up(rand(n / 2, 38)), am, n / 2, dx);
      return [dx];
    });
  });

  it('sums longer than the 65535 loop steps Mesa\'s llvmpipe runs in one invocation (bias gradient, reduce, scatterAdd, gemm over K) run as pieces and equal the reference', () => {
    const N = 2, C = 2, HW = 50_000, n = N * C * HW;
    const ones = new Float32Array(n).fill(1), dy = rand(n, 39);
    same('long sums', (b, up) => {
      const db = b.alloc('float32', C), dbr = b.alloc('float32', C), s = b.alloc('float32', 1), m = b.alloc('float32', C), am = b.allocIndex(C);
      b.biasBackward(up(ones), N, C, HW, db, false);
      b.biasBackward(up(dy), N, C, HW, dbr, false);
      b.reduce('sum', up(ones), [N * C * HW], [0], s);
      b.reduce('max', up(dy), [N, C, HW], [0, 2], m, am);
      const at = b.alloc('float32', n);
      b.scatterAdd(up(ones), am, C, at);
      const m2 = b.alloc('float32', n / 2), am2 = b.allocIndex(n / 2), hits = b.alloc('float32', n);
      b.reduce('max', up(dy), [n / 2, 2], [1], m2, am2);
      b.scatterAdd(up(ones), am2, n / 2, hits);
      // a gemm summing over K = 70,000 (a weight gradient over images × P·Q), operands larger than a binding too
      const K = 70_000, c = b.alloc('float32', 6);
      b.gemm(false, true, 2, 3, K, 1, up(rand(2 * K, 40)), 0, K, up(rand(3 * K, 41)), 0, K, 0, c, 0, 3);
      const ones2 = b.alloc('float32', 1);
      b.gemm(false, false, 1, 1, K, 1, up(new Float32Array(K).fill(1)), 0, K, up(new Float32Array(K).fill(1)), 0, 1, 0, ones2, 0, 1);
      return [db, dbr, s, m, at, hits, c, ones2];
    });
  });

  it('a reduced VGG-16 training step with 16 KiB bindings (every kernel in pieces) equals the same step unsplit within 1e-4', async () => {
    const g = new Generator(3);
    const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => g.uniform(-1, 1));
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
    const run = async (binding: number | null): Promise<{ loss: number; weights: Float32Array[] }> => {
      webgpuDebugMaxBinding(binding);
      manualSeed(7);
      const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 0.5 });
      const data = () => new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 8 });
      const cost = new GeneralizedCost(CrossEntropyBinary());
      await m.fit(data(), { optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4 }), numEpochs: 1, cost });
      const loss = m.evalCost(data(), cost);
      return { loss, weights: m.layersToOptimize.flatMap((l) => l.params().map((p) => Float32Array.from(p.value.toHost()))) };
    };
    const prev = backend().name;
    setBackend('webgpu');
    let whole: Awaited<ReturnType<typeof run>>, split: Awaited<ReturnType<typeof run>>;
    try {
      whole = await run(null);
      split = await run(16 * 1024);
    } finally {
      webgpuDebugMaxBinding(BINDING);
      setBackend(prev);
    }
    expect(webgpuInfo().maxBinding).toBe(BINDING);
    expect(Number.isFinite(whole.loss)).toBe(true);
    expect(Math.abs(split.loss - whole.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(whole.loss));
    expect(split.weights.length).toBe(whole.weights.length);
    split.weights.forEach((w, i) => expectClose(w, whole.weights[i]!, `parameter ${i}`, 1e-4, 1e-6));
  }, 300_000);

  it('one image plane larger than one binding (pooling cannot cut a plane): a BackendError naming the kernel, the size and the limit', () => {
    const be = getBackend('webgpu');
    const g = windowGeometry('t', 1, 160, 160, 2, 2, { stride: 2 });
    const x = be.upload(rand(160 * 160, 12)), y = be.alloc('float32', 80 * 80), am = be.allocIndex(80 * 80);
    expect(() => {
      be.maxPoolForward(x, 1, g, y, am);
      be.read(y, 0, 1);
    }).toThrow(/kernel 'maxPoolForward': one image plane holds 25600 values \(102400 bytes\), more than one storage binding allows \(maxStorageBufferBindingSize 65536 bytes\) even when the call is split/);
    // the backend goes on
    const z = be.upload(Float32Array.of(3));
    expect(Array.from(be.read(z, 0, 1))).toEqual([3]);
  });

  it('a model whose weights do not fit the device: the message names the layer, the size and the limit', () => {
    const prev = backend().name;
    setBackend('webgpu');
    try {
      const m = new Model([Affine(2048, { init: new Gaussian(), name: 'fc6' })]);
      let err: unknown;
      try {
        m.initialize([1024]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BackendError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/layer 'fc6'/);
      expect(msg).toContain('2097152 values (8.0 MiB)');
      expect(msg).toContain('4.0 MiB (maxBufferSize');
    } finally {
      setBackend(prev);
    }
  });

  it('a kernel variant (the gemm with the ReLU epilogue and no bias, not run before in this file) is compiled once, then taken from the cache', () => {
    const be = getBackend('webgpu');
    const g = windowGeometry('t', 3, 4, 4, 3, 3, { padding: 1 });
    const conv = (): void => {
      const y = be.alloc('float32', 2 * 16);
      be.conv2dForward(be.upload(rand(48, 1)), 1, be.upload(rand(2 * 27, 2)), 2, null, g, y, true);
      be.read(y, 0, 32);
    };
    const s0 = webgpuStats();
    conv();
    const s1 = webgpuStats();
    conv();
    conv();
    const s2 = webgpuStats();
    expect(s1.compiles).toBe(s0.compiles + 1);
    expect(s2.compiles).toBe(s1.compiles);
    expect(s2.pipelines).toBe(s1.pipelines);
  });
});
