// The webgpu backend (src/kernels/gpu/webgpu/): start-up and what it reports, synchronous
// reads through the worker, pipelines compiled once, buffers pooled and reused zeroed, writes
// through aliased bindings, dispatches past 65535 workgroups, validation errors as a
// BackendError naming the kernel, and a reduced VGG-16 trained to the reference's loss and
// weights. The conformance suite (test/kernels/conformance.test.ts) holds its kernels to
// the reference. Where the `webgpu` package or an adapter is missing, everything here is
// skipped with the reason printed (test/helpers/backends.ts). The worker runs from dist/
// (npm run build).
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Affine, Constant, Conv, Gaussian, Logistic, Pooling, Rectlin } from '../../../src/layers/index.js';
import { Model } from '../../../src/models/model.js';
import { backend, getBackend, setBackend } from '../../../src/kernels/index.js';
import { webgpuDebugShader, webgpuInfo, webgpuStats, webgpuSync } from '../../../src/kernels/gpu/webgpu/index.js';
import { bucket } from '../../../src/kernels/gpu/webgpu/device.js';
import { BackendError } from '../../../src/util/errors.js';
import { Generator, manualSeed } from '../../../src/index.js';
import { ArrayIterator } from '../../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../../src/models/vgg16.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../../src/models/cost.js';
import { GradientDescentMomentum } from '../../../src/optim/index.js';
import { referenceBackend, webgpuUsable } from '../../helpers/backends.js';
import { expectClose } from '../../helpers/check.js';

describe('pool buckets', () => {
  it('powers of two up to 1 MiB, then whole MiB', () => {
    expect(bucket(4)).toBe(16);
    expect(bucket(100)).toBe(128);
    expect(bucket(1 << 20)).toBe(1 << 20);
    expect(bucket((1 << 20) + 1)).toBe(2 << 20);
    expect(bucket(5.5 * (1 << 20))).toBe(6 << 20);
  });
});

describe.runIf(webgpuUsable())('webgpu backend', () => {
  const be = () => getBackend('webgpu');

  it('starts and says which adapter runs it, its backend and whether it is a software renderer', () => {
    const i = webgpuInfo();
    console.log(`webgpu adapter: ${i.adapter} (${i.backend}, ${i.featureLevel}${i.software ? ', software renderer' : ''})`);
    expect(i.adapter.length).toBeGreaterThan(0);
    expect(typeof i.software).toBe('boolean');
    expect(be().dtypes).toEqual(['float32']);
  });

  it('reads back what was uploaded and written (synchronously), and int32 index buffers', () => {
    const b = be();
    const x = b.upload(Float32Array.of(1, 2, 3, 4, 5));
    b.write(x, 1, Float32Array.of(20, 30));
    b.fill(x, -1, 4, 1);
    expect(Array.from(b.read(x, 0, 5))).toEqual([1, 20, 30, 4, -1]);
    expect(Array.from(b.read(x, 2, 2))).toEqual([30, 4]);
    const idx = b.allocIndex(3);
    b.write(idx, 0, Float32Array.of(-1, 7, 2));
    expect(Array.from(b.read(idx, 0, 3))).toEqual([-1, 7, 2]);
    expect(b.lengthOf(x)).toBe(5);
    expect(b.dtypeOf(x)).toBe('float32');
    expect(() => b.read(x, 3, 3)).toThrow(BackendError);
  });

  it('compiles each pipeline once and reuses released buffers, zeroed', () => {
    const b = be();
    const run = (): void => {
      const a = b.upload(Float32Array.from({ length: 6 * 5 }, (_, i) => i)), c = b.alloc('float32', 6 * 6);
      b.gemm(false, true, 6, 6, 5, 1, a, 0, 5, a, 0, 5, 0, c, 0, 6);
      b.read(c, 0, 36);
      b.release(a);
      b.release(c);
    };
    run();
    const s0 = webgpuStats();
    run();
    const s1 = webgpuStats();
    expect(s1.compiles).toBe(s0.compiles);
    expect(s1.reused).toBeGreaterThan(s0.reused);
    const dirty = b.upload(Float32Array.from({ length: 40 }, () => 9));
    b.release(dirty);
    const clean = b.alloc('float32', 40);
    expect(Array.from(b.read(clean, 0, 40))).toEqual(new Array(40).fill(0));
  });

  it('in place (y = x) through the aliasing rule, and over more than 65535 workgroups', () => {
    const b = be();
    const n = 64 * 65535 + 130;
    const x = b.upload(Float32Array.from({ length: n }, (_, i) => (i % 7) - 3));
    b.unary('relu', x, x, n);
    const r = b.read(x, 0, n);
    expect(r[n - 1]).toBe(Math.max(0, ((n - 1) % 7) - 3));
    expect(r[4]).toBe(1);
    expect(r[0]).toBe(0);
    const y = b.upload(Float32Array.of(1, 2, 3, 4));
    const bias = b.upload(Float32Array.of(10, 20));
    b.biasAdd(y, bias, 1, 2, 2, y);
    expect(Array.from(b.read(y, 0, 4))).toEqual([11, 12, 23, 24]);
  });

  it('a WebGPU validation error is a BackendError naming the kernel; the backend goes on', () => {
    webgpuDebugShader('this is not WGSL');
    expect(() => webgpuSync()).toThrow(/kernel 'debugShader'/);
    const x = be().upload(Float32Array.of(2));
    expect(Array.from(be().read(x, 0, 1))).toEqual([2]);
  });

  it('a buffer of another backend is refused with a BackendError', () => {
    const other = referenceBackend().upload(Float32Array.of(1));
    expect(() => be().unary('neg', other, other, 1)).toThrow(BackendError);
  });

  it('live buffers and their bytes stay flat over 200 training steps of a tiny model (after a garbage collection); the pool grows by 64 KiB at most', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = async (): Promise<ReturnType<typeof webgpuStats>> => {
      gc();
      // the FinalizationRegistry posts the collected handles' releases on a later turn
      await new Promise((r) => setTimeout(r, 50));
      webgpuSync();
      return webgpuStats();
    };
    const g = new Generator(4);
    const data = (steps: number) => new ArrayIterator({
      x: Float32Array.from({ length: steps * 2 * 2 * 8 * 8 }, () => g.uniform(-1, 1)), y: Int32Array.from({ length: steps * 2 }, (_, i) => i % 2), nclass: 2, lshape: [2, 8, 8], bsz: 2,
    });
    const prev = backend().name;
    setBackend('webgpu');
    try {
      manualSeed(1);
      const m = new Model([
        Conv([3, 3, 4], { padding: 1, init: new Gaussian(0, 0.3), bias: new Constant(0.1), activation: Rectlin(), name: 'c1' }),
        new Pooling(2, { strides: 2 }),
        Affine(2, { init: new Gaussian(0, 0.3), bias: new Constant(0), activation: Logistic({ shortcut: true }), name: 'fc' }),
      ]);
      const opt = new GradientDescentMomentum(0.05, { momentumCoef: 0.9 });
      const cost = new GeneralizedCost(CrossEntropyBinary());
      const set = data(100);
      await m.fit(set, { optimizer: opt, numEpochs: 1, cost });
      const before = await settle();
      await m.fit(set, { optimizer: opt, numEpochs: 2, cost });
      const after = await settle();
      console.log(`webgpu over 200 steps: live buffers ${before.buffers} → ${after.buffers}, live bytes ${before.liveBytes} → ${after.liveBytes}, GPU bytes (live + pooled) ${before.allocatedBytes} → ${after.allocatedBytes}`);
      expect(after.buffers).toBe(before.buffers);
      expect(after.liveBytes).toBe(before.liveBytes);
      // The pool keeps what the most tensors alive at once needed: tensors of a step go back when
      // the garbage collector finds them, so its high-water mark may creep while GC timing varies,
      // but not grow with the steps.
      expect(after.allocatedBytes - before.allocatedBytes).toBeLessThanOrEqual(64 * 1024);
    } finally {
      setBackend(prev);
    }
  }, 300_000);

  it('a reduced VGG-16 (width 1/16, fc 16, 32×32) trains to the reference backend\'s loss and weights within 1e-4', async () => {
    const g = new Generator(2);
    const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => g.uniform(-1, 1));
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
    let backendName = referenceBackend().name;
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
    const prevDefault = backend().name;
    setBackend(backendName);
    const ref = await run();
    backendName = 'webgpu';
    setBackend('webgpu');
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
  }, 120_000);
});
