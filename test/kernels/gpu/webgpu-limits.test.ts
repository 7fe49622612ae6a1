// The webgpu backend at its limits, forced small here (TL_WEBGPU_MAX_BINDING: 64 KiB bindings,
// TL_WEBGPU_MAX_BUFFER: 4 MiB buffers; set before the backend starts in this test file's
// worker): arrays larger than one storage binding are bound in parts (gemm in blocks, pointwise
// kernels in windows) and give the reference's results; a model whose weights exceed the
// largest buffer is refused naming the layer, the size and the limit; the device asks for
// every limit the adapter offers; a fused kernel variant is compiled once.
import { describe, expect, it } from 'vitest';
import type { Backend, DeviceBuffer } from '../../../src/kernels/backend.js';
import { backend, getBackend, setBackend } from '../../../src/kernels/index.js';
import { windowGeometry } from '../../../src/kernels/geometry.js';
import { webgpuInfo, webgpuStats } from '../../../src/kernels/gpu/webgpu/index.js';
import { Affine, Gaussian } from '../../../src/layers/index.js';
import { Model } from '../../../src/models/model.js';
import { BackendError } from '../../../src/util/errors.js';
import { Generator } from '../../../src/index.js';
import { referenceBackend, webgpuUsable } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/check.js';

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

  it('a kernel that is not split, given an array larger than one binding: a BackendError naming the kernel, the size and the limit', () => {
    const be = getBackend('webgpu');
    const g = windowGeometry('t', 1, 160, 160, 2, 2, { stride: 2 });
    const x = be.upload(rand(160 * 160, 12)), y = be.alloc('float32', 80 * 80), am = be.allocIndex(80 * 80);
    expect(() => {
      be.maxPoolForward(x, 1, g, y, am);
      be.read(y, 0, 1);
    }).toThrow(/kernel 'maxPoolForward': binding 'x' of shader \S+ holds 25600 values \(102400 bytes\), more than one storage binding allows \(maxStorageBufferBindingSize 65536 bytes\), and this kernel is not split/);
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
