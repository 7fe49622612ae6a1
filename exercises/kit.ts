// Shared helpers of the build-the-engine track (exercises/track.txt lists its tasks in
// order): readable comparisons (which element, which index, which shape), tiny random
// tensors, and the seam most tasks plug into: a backend assembled from the reference
// backend's kernel table (src/kernels/cpu/ref/) with some rows replaced by the learner's
// kernels, registered under its own name, on which a tiny model trains and is compared
// with the same model trained on `ref`.
import assert from 'node:assert/strict';
import { assembleBackend, type Backend, type FloatArray, type KernelTable, type WindowGeometry } from '../src/kernels/backend.js';
import { gemm as refGemm } from '../src/kernels/cpu/ref/gemm.js';
import { hostKernelTable, unboxed } from '../src/kernels/cpu/ref/index.js';
import { hostStorage } from '../src/kernels/cpu/ref/storage.js';
import { backend, getBackend, registerBackend, setBackend } from '../src/kernels/index.js';
import {
  Accuracy, Affine, ArrayIterator, Constant, Conv, CrossEntropyBinary, CrossEntropyMulti, GeneralizedCost, generateVgg16TransferModel, Generator,
  GradientDescentMomentum, importMatchingLayers, loadBuiltin, manualSeed, Model, Pooling, readWeights, Rectlin, resetLayerNames, Softmax, tensor,
  transferOptimizer, type Layer, type Tensor,
} from '../src/index.js';

/** Random values in [-1, 1) from a seed (same seed, same values). */
export function randomArray(n: number, seed: number, dtype: 'float32' | 'float64' = 'float64'): FloatArray {
  const g = new Generator(seed);
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = g.uniform(-1, 1);
  return a;
}

/** A float64 tensor of random values (on the default backend unless `be`). */
export function randomTensor(shape: number[], seed: number, be?: Backend): Tensor {
  const t = tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape, { dtype: 'float64' });
  return be ? t.to(be) : t;
}

/** An index into `shape` as [i, j, ...], for messages. */
export function indexOf(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(flat % shape[k]!);
    flat = Math.floor(flat / shape[k]!);
  }
  return `[${idx.join(', ')}]`;
}

/** Throws when the shapes differ, naming what was compared. */
export function expectShape(what: string, actual: readonly number[] | undefined, expected: readonly number[]): void {
  if (!actual) throw new assert.AssertionError({ message: `${what}: got nothing (null or undefined), expected a tensor of shape [${expected.join(', ')}]` });
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    throw new assert.AssertionError({ message: `${what}: shape [${actual.join(', ')}], expected [${expected.join(', ')}]` });
  }
}

/** Throws at the first element (named by its index in `shape`) where actual and expected differ beyond the tolerance. */
export function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, shape: readonly number[] = [expected.length], rtol = 1e-9, atol = 1e-12): void {
  if (actual.length !== expected.length) {
    throw new assert.AssertionError({ message: `${what}: ${actual.length} values, expected ${expected.length} (shape [${shape.join(', ')}])` });
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) throw new assert.AssertionError({ message: `${what}: element ${indexOf(i, shape)} is ${a}, expected ${e}` });
  }
}

/** Compares two tensors: shape, then values. */
export function expectTensor(what: string, actual: Tensor | null | undefined, expected: Tensor, rtol = 1e-9, atol = 1e-12): void {
  expectShape(what, actual?.shape, expected.shape);
  expectClose(what, actual!.toHost(), expected.toHost(), expected.shape, rtol, atol);
}

/** A host backend's buffer as the typed array it is (the backends built here keep buffers unboxed). */
export const arr = (b: unknown): FloatArray => b as FloatArray;
export const idx = (b: unknown): Int32Array => b as Int32Array;

/**
 * A backend named `name`: the reference backend's storage and kernel table, with `rows`
 * replacing some of its kernels (the seam: assembleBackend, src/kernels/backend.ts),
 * registered so that `-b name`, getBackend and tensor.to(name) find it.
 */
export function backendWith(name: string, rows: Partial<KernelTable>): Backend {
  const be = assembleBackend(
    { name, description: `ref's kernels with ${Object.keys(rows).join(', ')} replaced by an exercise's`, dtypes: ['float32', 'float64'] },
    hostStorage(name, unboxed),
    { ...hostKernelTable(name, unboxed), ...rows },
  );
  registerBackend(be);
  return be;
}

/** The layers of the track's tiny models: a conv net (two conv + relu, max pool, affine, softmax) or a 2-layer MLP. */
export function tinyLayers(kind: 'conv' | 'mlp'): Layer[] {
  resetLayerNames();
  if (kind === 'mlp') return [Affine(5, { bias: new Constant(0.1), activation: Rectlin(), name: 'fc1' }), Affine(3, { bias: new Constant(0), activation: Softmax(), name: 'fc2' })].flat();
  return [
    Conv([3, 3, 4], { padding: 1, bias: new Constant(0.1), activation: Rectlin(), name: 'conv' }),
    // a second convolution, so that the backward pass needs an input gradient (col2im)
    Conv([3, 3, 3], { padding: 1, bias: new Constant(0.1), activation: Rectlin(), name: 'conv2' }), new Pooling(2, { name: 'pool' }),
    Affine(3, { bias: new Constant(0), activation: Softmax(), name: 'fc' }),
  ].flat();
}

/** 12 examples [2, 6, 6] of 3 classes. */
export function tinyData(bsz = 4): ArrayIterator {
  const x = Float32Array.from(randomArray(12 * 2 * 36, 99));
  return new ArrayIterator({ x, y: Array.from({ length: 12 }, (_, i) => i % 3), nclass: 3, lshape: [2, 6, 6], bsz });
}

export interface Trained {
  /** Each parameter's values after training: 'layer.W'. */
  params: Map<string, Float32Array>;
  /** The mean cost of each epoch. */
  costs: number[];
}

/**
 * Trains a tiny model for 2 epochs on backend `be` (seeded: the same initial weights on
 * every backend) with `fit` (Model.fit unless given) and `layers` (tinyLayers(kind) unless given).
 */
export async function trainTiny(be: Backend | string, opts: { kind?: 'conv' | 'mlp'; layers?: () => Layer[]; fit?: (m: Model, data: ArrayIterator, o: { optimizer: GradientDescentMomentum; cost: GeneralizedCost; numEpochs: number }) => Promise<void> | void } = {}): Promise<Trained> {
  const b = typeof be === 'string' ? getBackend(be) : be;
  // the whole training on `b` (fit makes its input tensors on the default backend)
  const prev = backend();
  setBackend(b.name);
  try {
    manualSeed(7);
    const model = new Model(opts.layers ? opts.layers() : tinyLayers(opts.kind ?? 'conv'));
    const costs: number[] = [];
    const data = tinyData();
    model.initialize(data.lshape);
    const o = { optimizer: new GradientDescentMomentum(0.1, { momentumCoef: 0.9, wdecay: 1e-3 }), cost: new GeneralizedCost(CrossEntropyMulti()), numEpochs: 2 };
    if (opts.fit) await opts.fit(model, data, o);
    else await model.fit(data, { ...o, callbacks: [{ onEpochEnd: (_m, _e, c) => void costs.push(c) }] });
    const params = new Map<string, Float32Array>();
    for (const l of model.layersToOptimize) for (const p of l.params()) params.set(`${l.name}.${p.name}`, Float32Array.from(p.value.toHost()));
    return { params, costs };
  } finally {
    setBackend(prev.name);
  }
}

/** Throws unless two trainings ended with the same parameters (float32 tolerance), naming the first that differs. */
export function expectSameTraining(what: string, got: Trained, want: Trained, rtol = 1e-4, atol = 1e-5): void {
  for (const [name, w] of want.params) {
    const g = got.params.get(name);
    if (!g) throw new assert.AssertionError({ message: `${what}: the model has no parameter ${name}` });
    expectClose(`${what}: parameter ${name} after 2 epochs`, g, w, [w.length], rtol, atol);
  }
}

/** A geometry (C, H, W, window R×S, stride, padding, dilation) with its output size P×Q, as the backend's kernels take it. */
export { windowGeometry } from '../src/kernels/geometry.js';

type Gemm = (
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number, B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
) => void;

/**
 * The dense layer's forward row built on the gemm given: y = x · wᵀ, then + b and the ReLU
 * when asked (Backend.linearForward). The conformance suite holds that row to the bits of the
 * backend's own gemm, biasAdd and relu one by one, so a backend with its own gemm takes
 * this row rather than ref's (whose product is ref's gemm).
 */
export function linearRowFrom(gemm: Gemm): Pick<KernelTable, 'linearForward'> {
  return {
    linearForward: (xb, N, nin, wb, nout, bb, yb, relu) => {
      const y = arr(yb);
      gemm(false, true, N, nout, nin, 1, arr(xb), 0, nin, arr(wb), 0, nin, 0, y, 0, nout);
      if (bb) {
        const b = arr(bb);
        for (let i = 0; i < N * nout; i++) y[i] = y[i]! + b[i % nout]!;
      }
      if (relu) for (let i = 0; i < N * nout; i++) { const v = y[i]!; y[i] = v > 0 || v !== v ? v : 0; }
    },
  };
}

type Im2col = (x: FloatArray, xOffset: number, g: WindowGeometry, cols: FloatArray, colsOffset?: number, ldCols?: number) => void;
type Col2im = (cols: FloatArray, g: WindowGeometry, dx: FloatArray, dxOffset: number, colsOffset?: number, ldCols?: number) => void;

/**
 * The convolution kernels (forward, and the three gradients) as im2col + gemm, one image
 * at a time, with the im2col and col2im given: the rows a backend built on them needs.
 *   y[n] = W[K, CRS] · cols[CRS, PQ] (+ b, then max(0, ·) when `relu`);  dcols = Wᵀ · dy[n],
 *   dx[n] = col2im(dcols);  dW += dy[n] · colsᵀ
 * The model asks for the ReLU with the convolution (Backend.conv2dForward's `relu`) when a
 * Rectlin follows Conv + Bias: a forward row that ignored it would train a different net.
 */
export function convRowsFrom(im2col: Im2col, col2im: Col2im): Pick<KernelTable, 'conv2dForward' | 'conv2dBackward'> {
  const like = (a: FloatArray, n: number): FloatArray => (a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
  return {
    conv2dForward: (xb, N, wb, K, bb, g, yb, relu) => {
      const x = arr(xb), w = arr(wb), y = arr(yb), b = bb && arr(bb);
      const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
      const cols = like(x, CRS * PQ);
      for (let n = 0; n < N; n++) {
        im2col(x, n * CHW, g, cols);
        refGemm(false, false, K, PQ, CRS, 1, w, 0, CRS, cols, 0, PQ, 0, y, n * K * PQ, PQ);
        if (b) for (let k = 0; k < K; k++) for (let i = 0; i < PQ; i++) y[(n * K + k) * PQ + i]! += b[k]!;
        if (relu) for (let i = n * K * PQ; i < (n + 1) * K * PQ; i++) y[i] = Math.max(0, y[i]!);
      }
    },
    conv2dBackward: (xb, N, wb, K, g, dyb, dxb, dwb, dbb) => {
      const x = arr(xb), w = arr(wb), dy = arr(dyb);
      const CRS = g.C * g.R * g.S, PQ = g.P * g.Q, CHW = g.C * g.H * g.W;
      const cols = like(x, CRS * PQ);
      if (dxb) arr(dxb).fill(0);
      for (let n = 0; n < N; n++) {
        if (dxb) {
          refGemm(true, false, CRS, PQ, K, 1, w, 0, CRS, dy, n * K * PQ, PQ, 0, cols, 0, PQ);
          col2im(cols, g, arr(dxb), n * CHW);
        }
        if (dwb) {
          im2col(x, n * CHW, g, cols);
          refGemm(false, true, K, CRS, PQ, 1, dy, n * K * PQ, PQ, cols, 0, PQ, 1, arr(dwb), 0, CRS);
        }
        if (dbb) {
          const db = arr(dbb);
          for (let k = 0; k < K; k++) for (let i = 0; i < PQ; i++) db[k]! += dy[(n * K + k) * PQ + i]!;
        }
      }
    },
  };
}

/** A float32 tensor of random values on the default backend (what layers compute in). */
export function random32(shape: number[], seed: number): Tensor {
  return tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed, 'float32'), shape);
}

/**
 * The README's transfer example, shortened: the MNIST-pretrained VGG-16 imported by layer
 * name, its conv layers frozen, 2 epochs on T-shirt vs Shirt; the layers imported, each
 * epoch's cost and the test accuracy. The tasks that plug into fit or the import run it
 * with and without the learner's code.
 */
export async function readmeTransfer(): Promise<{ imported: string[]; costs: number[]; accuracy: number }> {
  manualSeed(0);
  const view = { size: 32, fit: 'pad' as const, scale: 'byte' as const, channels: 1 as const, mean: Float32Array.of(64.5) };
  const train = loadBuiltin('fashion-tshirt-shirt', 'train').takePerClass(8).iterator({ ...view, bsz: 8, shuffle: true });
  const test = loadBuiltin('fashion-tshirt-shirt', 'test').takePerClass(20).iterator({ ...view, bsz: 20 });
  const model = generateVgg16TransferModel({ nclass: 2, widthMult: 0.125, fcSize: 128 });
  model.initialize(train.lshape);
  const { imported } = importMatchingLayers(await readWeights('models/vgg16-mnist-w0.125-fc128.h5'), model, { log: () => {} });
  const optimizer = transferOptimizer(imported, { lr: 0.01, momentum: 0.9, wdecay: 0.0005, importedLrScale: 0 });
  const costs: number[] = [];
  await model.fit(train, { optimizer, numEpochs: 2, cost: new GeneralizedCost(CrossEntropyBinary()), callbacks: [{ onEpochEnd: (_m, _e, c) => void costs.push(c) }] });
  return { imported, costs, accuracy: model.eval(test, new Accuracy())[0]! };
}
