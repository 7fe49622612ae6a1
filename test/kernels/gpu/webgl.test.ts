// The GPU backend (src/kernels/gpu/webgl/) beyond the conformance suite: how it starts, and each
// gpu.js 2.24.1 trap that it handles (docs/gpu-backend.md), shown first on raw gpu.js and
// then on the backend, against the reference backend. In Node gpu.js runs in its WebAssembly
// mode (no WebGL here), which computes in float32 like a GPU; `npm run test:gl`
// (scripts/test-gl.sh) runs this file under Xvfb with TL_GPU_MODE=headlessgl and the native
// `gl` package built, and then every test expects that mode.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Backend, DeviceBuffer, GdmStep } from '../../../src/kernels/backend.js';
import { backend, getBackend, setBackend } from '../../../src/kernels/index.js';
import { Device, GpuUnavailableError, gpuDevice, gpuStarted } from '../../../src/kernels/gpu/webgl/index.js';
import { windowGeometry } from '../../../src/kernels/geometry.js';
import { Generator, manualSeed } from '../../../src/index.js';
import { ArrayIterator } from '../../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../../src/models/vgg16.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../../src/models/cost.js';
import { GradientDescentMomentum } from '../../../src/optim/index.js';
import { referenceBackend } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/check.js';

const startedAtImport = gpuStarted();
const gpu = getBackend('gpu');
/** The mode these tests expect: the one asked for (test:gl asks for headlessgl), else what gpu.js picks in Node (webasm unless a built `gl` has a display). */
function expectedMode(): string {
  const asked = process.env.TL_GPU_MODE;
  if (asked && asked !== 'auto') return asked;
  const { GPU } = createRequire(import.meta.url)('gpu.js') as { GPU: { isHeadlessGLSupported: boolean } };
  return GPU.isHeadlessGLSupported ? 'headlessgl' : 'webasm';
}

function rand(n: number, gen: Generator, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => gen.uniform(lo, hi));
}

/** Runs fn on the GPU and the reference backend with the same inputs; compares what it returns (1e-4 relative). */
function same(what: string, fn: (b: Backend, up: (a: Float32Array) => DeviceBuffer) => DeviceBuffer[], rtol = 1e-4, atol = 1e-5): void {
  const run = (b: Backend) => fn(b, (a) => b.upload(Float32Array.from(a))).map((o) => Float32Array.from(b.read(o, 0, b.lengthOf(o))));
  const got = run(gpu), want = run(referenceBackend());
  got.forEach((o, i) => expectClose(o, want[i]!, `${what} (output ${i})`, rtol, atol));
}

describe('starting the GPU backend', () => {
  it('gpu.js is pinned at 2.24.1 and its optional native gl package is never built by npm install', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'));
    expect(pkg.dependencies['gpu.js']).toBe('2.24.1');
    expect(pkg.allowScripts).toMatchObject({ gl: false });
  });

  it('registering it does not start gpu.js; the first use does, in a mode it reports', () => {
    expect(startedAtImport).toBe(false);
    expect(gpu.dtypes).toEqual(['float32']);
    gpu.alloc('float32', 1);
    const d = gpuDevice();
    expect(d.mode).toBe(expectedMode()); // webasm: Node without the native gl package (or without a display)
    if (d.mode === 'webasm') expect(d.info.notAGpu).toMatch(/WebAssembly/);
    else {
      // headlessgl under Xvfb renders with Mesa's llvmpipe (on the CPU): reported as a software rasterizer
      expect(d.info.renderer).toEqual(expect.any(String));
      if (/llvmpipe|swiftshader|softpipe/i.test(d.info.renderer!)) expect(d.info.notAGpu).toMatch(/software rasterizer/);
      expect(d.info.maxTextureSize).toBeGreaterThanOrEqual(4096);
    }
  });

  it('a mode gpu.js cannot run is a clear error, never a silent fallback', () => {
    // in Node there is never WebGL2 (a browser API); headlessgl cannot start without the native gl package or a display
    const unavailable = gpuDevice().mode === 'headlessgl' ? 'webgl2' : 'headlessgl';
    expect(() => new Device(unavailable)).toThrow(GpuUnavailableError);
    expect(() => new Device(unavailable)).toThrow(new RegExp(`gpu\\.js cannot start in mode '${unavailable}'`));
    expect(() => new Device('metal')).toThrow(/unknown gpu\.js mode 'metal'/);
    expect(() => gpu.alloc('float64', 2)).toThrow(/float32 only/);
  });

  it('trap 7: every compiled kernel ran in the device\'s mode; a kernel that degrades to gpu.js\'s cpu mode is caught', () => {
    const d = gpuDevice();
    const b = gpu.upload(Float32Array.of(1, 2, 3));
    gpu.unary('exp', b, b, 3);
    expect(d.kernelModes()).toEqual([d.mode]);
    if (d.mode !== 'webasm') return; // GL modes have kernel maps
    // kernel maps are one of the features webasm hands to the cpu mode with only a console warning
    const warn = console.warn;
    console.warn = () => {};
    try {
      const k = d.gpu.createKernelMap({ s: function (v: number) { return v; } }, 'function(a) { return s(a[this.thread.x]); }', { output: [2] });
      k(Float32Array.of(1, 2));
      expect(() => d.assertMode('map', k)).toThrow(/fell back from gpu\.js mode 'webasm' to 'cpu'/);
    } finally {
      console.warn = warn;
    }
  });
});

describe('gpu.js traps, handled', () => {
  it('trap 1: loops bounded by an argument stop at loopMaxIterations; the backend\'s (bounded by constants) do not', () => {
    const d = gpuDevice();
    const k = d.gpu.createKernel('function(a, m) { let s = 0; for (let i = 0; i < m; i++) { s += a[0]; } return s; }', { output: [1] });
    expect(Array.from(k(Float32Array.of(1), 1500) as Float32Array)).toEqual([1000]); // the trap itself
    const gen = new Generator(1);
    const Kk = 1500, A = rand(2 * Kk, gen), B = rand(Kk * 3, gen);
    same('gemm K = 1500', (b, u) => { const c = b.alloc('float32', 6); b.gemm(false, false, 2, 3, Kk, 1, u(A), 0, Kk, u(B), 0, 3, 0, c, 0, 3); return [c]; });
    const g = windowGeometry('t', 130, 4, 4, 3, 3, { padding: 1 }); // C·R·S = 1170 products per output
    const x = rand(2 * 130 * 16, gen), w = rand(2 * 1170, gen), dy = rand(2 * 2 * 16, gen);
    same('conv C·R·S = 1170', (b, u) => {
      const y = b.alloc('float32', 64), dx = b.alloc('float32', x.length), dw = b.alloc('float32', w.length);
      b.conv2dForward(u(x), 2, u(w), 2, null, g, y);
      b.conv2dBackward(u(x), 2, u(w), 2, g, u(dy), dx, dw, null);
      return [y, dx, dw];
    });
    const v = rand(2 * 1200, gen, 0.05, 0.95), t = rand(2 * 1200, gen, 0, 1);
    same('softmax, costRows, reduce, biasBackward over 1200', (b, u) => {
      const s = b.alloc('float32', 2400), c = b.alloc('float32', 2), r = b.alloc('float32', 2), db = b.alloc('float32', 2);
      b.softmax(u(v), 2, 1200, false, s);
      b.costRows('CrossEntropyBinary', u(v), u(t), 2, 1200, c);
      b.reduce('sum', u(v), [2, 1200], [1], r);
      b.biasBackward(u(v), 1, 2, 1200, db, false);
      return [s, c, r, db];
    });
  });

  it('trap 3: webasm flat indices are float32 past 2^24; the backend stays exact there', () => {
    const d = gpuDevice();
    const n = (1 << 24) + 8;
    const big = new Float32Array(n);
    for (let i = n - 16; i < n; i++) big[i] = i - (1 << 24);
    const k = d.gpu.createKernel('function(a) { return a[this.thread.x + this.constants.off]; }', { output: [8], constants: { off: 1 << 24 } });
    if (d.mode === 'webasm') expect(Array.from(k(big) as Float32Array)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // the trap itself (webasm)
    const b = gpu.upload(big);
    gpu.binaryScalar('add', b, 1, b, n, false);
    expect(Array.from(gpu.read(b, 1 << 24, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // gemm with a 4097 × 4097 output (16.8 M values): the last row is exact
    const M = 4097, A = gpu.upload(Float32Array.from({ length: M }, (_, i) => i)), B = gpu.upload(new Float32Array(M).fill(1));
    const C = gpu.alloc('float32', M * M);
    gpu.gemm(false, false, M, M, 1, 1, A, 0, 1, B, 0, M, 0, C, 0, M);
    expect(gpu.read(C, (M - 1) * M + M - 3, 3)).toEqual(Float32Array.of(M - 1, M - 1, M - 1));
    expect(gpu.read(C, 5 * M, 2)).toEqual(Float32Array.of(5, 5));
  }, 60_000);

  it('trap 3: with the index window lowered to 120 values, gemm (every transpose), conv, pooling, bias and the elementwise kernels run in windows and agree', () => {
    const d = gpuDevice();
    const prev = d.indexLimit;
    d.indexLimit = 120;
    try {
      const gen = new Generator(3);
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const M = 13, N = 11, Kk = 17, lda = (tA ? M : Kk) + 1, ldb = (tB ? Kk : N) + 2, ldc = N + 3;
        const A = rand(2 + (tA ? Kk : M) * lda, gen), B = rand(1 + (tB ? N : Kk) * ldb, gen), C0 = rand(4 + M * ldc, gen);
        same(`windowed gemm ${tA} ${tB}`, (b, u) => { const c = u(C0); b.gemm(tA, tB, M, N, Kk, 0.5, u(A), 2, lda, u(B), 1, ldb, 1.5, c, 4, ldc); return [c]; });
      }
      const g = windowGeometry('t', 2, 6, 6, 3, 3, { padding: 1 });
      const x = rand(5 * 72, gen), w = rand(3 * 18, gen), dy = rand(5 * 3 * 36, gen);
      same('windowed conv', (b, u) => {
        const y = b.alloc('float32', dy.length), dx = b.alloc('float32', x.length), dw = u(w), db = b.alloc('float32', 3);
        b.conv2dForward(u(x), 5, u(w), 3, u(w.subarray(0, 3)), g, y);
        b.conv2dBackward(u(x), 5, u(w), 3, g, u(dy), dx, dw, db);
        return [y, dx, dw, db];
      });
      const pg = windowGeometry('t', 2, 6, 6, 2, 2, { stride: 2 });
      same('windowed pooling', (b, u) => {
        const y = b.alloc('float32', 5 * 18), a = b.allocIndex(5 * 18), dx = b.alloc('float32', x.length), ya = b.alloc('float32', 5 * 18), dxa = b.alloc('float32', x.length);
        b.maxPoolForward(u(x), 5, pg, y, a);
        b.maxPoolBackward(u(dy.subarray(0, 90)), a, 5, pg, dx);
        b.avgPoolForward(u(x), 5, pg, true, ya);
        b.avgPoolBackward(u(dy.subarray(0, 90)), 5, pg, true, dxa);
        return [y, dx, ya, dxa];
      });
      same('windowed bias', (b, u) => {
        const y = b.alloc('float32', x.length), db = u(w.subarray(0, 2));
        b.biasAdd(u(x), u(w.subarray(0, 2)), 5, 2, 36, y);
        b.biasBackward(u(x), 5, 2, 36, db, true);
        return [y, db];
      });
      const step: GdmStep = { lr: 0.1, scale: 1, bsz: 2, mu: 0.9, wdecay: 1e-3, nesterov: true, gclip: null, pclip: 0.5 };
      same('windowed elementwise and gdm', (b, u) => {
        const y = b.alloc('float32', 300), p = u(x.subarray(0, 300)), v = u(dy.subarray(0, 300));
        b.unary('tanh', u(x), y, 300);
        b.gdmUpdate(p, u(x.subarray(50, 350)), v, 300, step);
        return [y, p, v];
      }, 1e-5, 1e-6);
    } finally {
      d.indexLimit = prev;
    }
  });

  it('traps 4 and 5: a new shape compiles its own kernel (cached by op and shape), a shape seen before does not', () => {
    const d = gpuDevice();
    const run = (n: number): number[] => {
      const b = gpu.upload(Float32Array.from({ length: n }, (_, i) => i - 3));
      gpu.unary('relu', b, b, n);
      return Array.from(gpu.read(b, 0, n));
    };
    run(10);
    const c0 = d.compiles;
    const perShape = d.host ? 1 : 2; // on GL the upload of 12 values is a kernel too
    expect(run(12)).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(d.compiles).toBe(c0 + perShape);
    expect(run(10)).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    expect(run(12)).toHaveLength(12);
    expect(d.compiles).toBe(c0 + perShape);
  });
});

describe('training on the GPU backend', () => {
  it('a reduced VGG-16 (width 1/16, fc 16, 32×32) trains to the reference backend\'s loss and weights within 1e-4', async () => {
    const g = new Generator(2);
    const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => g.uniform(-1, 1));
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
    const run = async (): Promise<{ loss: number; weights: Float32Array[] }> => {
      manualSeed(7);
      const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 0.5 });
      const data = () => new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 4 });
      const cost = new GeneralizedCost(CrossEntropyBinary());
      await m.fit(data(), { optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4 }), numEpochs: 1, cost });
      const loss = m.evalCost(data(), cost);
      const weights = m.layersToOptimize.flatMap((l) => l.params().map((p) => {
        expect(p.value.backend.name).toBe(backendName);
        return Float32Array.from(p.value.toHost());
      }));
      return { loss, weights };
    };
    let backendName = referenceBackend().name;
    const prevDefault = backend().name;
    setBackend(backendName);
    const ref = await run();
    backendName = 'gpu';
    setBackend('gpu');
    let got: Awaited<ReturnType<typeof run>>;
    try {
      got = await run();
    } finally {
      setBackend(prevDefault);
    }
    expect(Number.isFinite(ref.loss)).toBe(true);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.loss));
    expect(got.weights.length).toBe(ref.weights.length);
    got.weights.forEach((w, i) => expectClose(w, ref.weights[i]!, `parameter ${i}`, 1e-4, 1e-6));
    expect(gpuDevice().kernelModes()).toEqual([expectedMode()]);
  }, 60_000);
});
