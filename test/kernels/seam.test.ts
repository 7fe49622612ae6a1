// The kernel seam: nothing above src/kernels/ touches a backend's storage; ops, layers, the
// optimizer and a whole training run work on a backend whose buffers are opaque handles and
// give bit-for-bit the reference backend's results; mixing backends is a clear error.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { add, conv2d, crossEntropyBinary, dropout, full, gradcheck, manualSeed, matmul, max, maximum, maxPool2d, relu, slice, softmax, tensor, toDtype, uniform, zeros, type Backend, type Tensor } from '../../src/index.js';
import { registerBackend, setBackend, withBackend } from '../../src/kernels/index.js';
import { ArrayIterator } from '../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { GeneralizedCost, CrossEntropyBinary } from '../../src/models/cost.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import { Activation, BackendError, Bias, Convolution, Generator, Linear, Model, Pooling, Rectlin } from '../../src/index.js';
import { boxedBackend } from '../helpers/backends.js';

const SRC = join(import.meta.dirname, '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Code without comments (line and block) and string contents, so that prose does not trip the rules. */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/(['"`])(?:\\.|(?!\1)[^\\\n])*\1/g, '""');
}

interface Rule { what: string; re: RegExp }
/** Everywhere outside src/kernels/: a buffer is opaque. */
const EVERYWHERE: Rule[] = [
  { what: 'indexes or calls a method on a tensor\'s storage', re: /\.storage\s*(\[|\.\s*\w+\s*\()/ },
  { what: 'casts a buffer to a host array', re: /as\s+unknown\s+as\s+(Float32|Float64|Int32)Array/ },
];
/** In the compute code (ops, layers, optimizers, costs): no host reads at all; values stay on the backend. */
const COMPUTE: Rule[] = [
  { what: 'reads tensor values on the host (.data)', re: /\.data\b(?!\s*:)/ },
  { what: 'reads tensor values on the host (toHost)', re: /\.toHost\s*\(/ },
  { what: 'allocates a host array for results', re: /new\s+(Float32|Float64|Int32)Array\s*\(/ },
];
const COMPUTE_DIRS = ['autograd/ops', 'layers', 'optim'];
const COMPUTE_FILES = ['models/cost.ts'];
// Host-side by design: values are made on the host, then uploaded (creation ops, initializers).
const COMPUTE_EXEMPT = ['autograd/ops/create.ts', 'layers/initializers.ts', 'layers/param-util.ts'];

/** The violations of the seam's rules in one source file (path relative to src/). */
export function seamViolations(rel: string, text: string): string[] {
  if (rel.startsWith('kernels/')) return [];
  const out: string[] = [];
  const imports = [...text.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  // src/browser/ gives the fast backend its page platform (Web Workers in place of worker_threads,
  // swapped in by the bundler) and starts it: backend plumbing, as src/kernels/index.ts is
  // simd/asm.ts is the WebAssembly assembler the fast kernels are written with, not a kernel:
  // prepare's image resize (src/data/resize-simd.ts) is emitted with it too
  if (!rel.startsWith('browser/')) for (const imp of imports) if (/kernels\/cpu\//.test(imp) && !/kernels\/cpu\/simd\/asm\.js$/.test(imp)) out.push(`${rel}: imports a backend's kernels directly (${imp}); go through the Backend interface`);
  const code = codeOf(text);
  const lines = code.split('\n');
  const compute = !COMPUTE_EXEMPT.includes(rel) && (COMPUTE_DIRS.some((d) => rel.startsWith(`${d}/`)) || COMPUTE_FILES.includes(rel));
  const rules = [...EVERYWHERE, ...(compute ? COMPUTE : [])];
  lines.forEach((line, i) => {
    for (const r of rules) if (r.re.test(line)) out.push(`${rel}:${i + 1}: ${r.what}: ${line.trim()}`);
  });
  return out;
}

describe('the seam: nothing above src/kernels/ touches a backend\'s storage', () => {
  it('no source file breaks the rules', () => {
    const violations = filesUnder(SRC).flatMap((f) => seamViolations(relative(SRC, f).split('\\').join('/'), readFileSync(f, 'utf8')));
    expect(violations).toEqual([]);
  });

  it('the rules catch what they are for', () => {
    expect(seamViolations('layers/x.ts', 'const a = t.storage[3];')).toHaveLength(1);
    expect(seamViolations('models/model.ts', 'p.value.storage.set(v);')).toHaveLength(1);
    expect(seamViolations('layers/x.ts', 'const d = delta.data;')).toHaveLength(1);
    expect(seamViolations('optim/gdm.ts', 'const g = grad.toHost();')).toHaveLength(1);
    expect(seamViolations('autograd/ops/x.ts', 'const y = new Float32Array(n);')).toHaveLength(1);
    expect(seamViolations('models/model.ts', "import { gemm } from '../kernels/cpu/ref/gemm.js';")).toHaveLength(1);
    expect(seamViolations('cli/x.ts', 'const a = b as unknown as Float32Array;')).toHaveLength(1);
    // allowed: explicit read-back outside the compute code, Strided literals, comments, the kernels themselves
    expect(seamViolations('models/model.ts', 'metric.sum(y.toHost());')).toEqual([]);
    expect(seamViolations('layers/x.ts', 'be.copy({ data: t.storage, offset: 0 }, out); // t.data is a download')).toEqual([]);
    expect(seamViolations('kernels/cpu/x.ts', 'x.data[i] = 1;')).toEqual([]);
  });
});

describe('mixing backends in one op', () => {
  it('is an error that names the op and both backends', () => {
    registerBackend(boxedBackend);
    const a = tensor([1, 2, 3]);
    const b = withBackend(boxedBackend, () => tensor([1, 2, 3]));
    expect(b.backend.name).toBe('boxed');
    expect(() => add(a, b)).toThrow(/add: inputs live on different backends \('cpu' and 'boxed'\)/);
    expect(() => matmul(tensor([1, 2], [1, 2]), withBackend(boxedBackend, () => tensor([1, 2], [2, 1])))).toThrow(/matmul: .*'cpu' and 'boxed'/);
    const x = withBackend(boxedBackend, () => uniform([1, 1, 4, 4]));
    expect(() => conv2d(x, tensor(new Float32Array(9), [1, 1, 3, 3]))).toThrow(/conv2d: .*'boxed' and 'cpu'/);
    // the hint names both backends, and .to() takes a Backend or a registered name; then the op runs
    expect(() => add(a, b)).toThrow(/move one with \.to\('cpu'\) or \.to\('boxed'\) first/);
    expect(Array.from(add(a, b.to(a.backend)).data)).toEqual([2, 4, 6]);
    expect(Array.from(add(a, b.to('cpu')).data)).toEqual([2, 4, 6]);
    expect(a.to('boxed').backend).toBe(boxedBackend);
    expect(() => a.to('nosuch')).toThrow(/unknown backend 'nosuch'; registered backends: cpu, ref, gpu, webgpu, boxed/);
  });

  it('a layer given an input (or delta) of another backend than its parameters: an error naming the layer and both backends', () => {
    registerBackend(boxedBackend);
    // Built under cpu (the default): parameters on cpu; inputs made under `boxed`.
    const model = new Model([
      new Convolution([3, 3, 2], { name: 'conv' }), new Bias({ name: 'b' }), new Activation(Rectlin(), { name: 'relu' }),
      new Pooling(2, { name: 'pool' }), new Linear(3, { name: 'fc' }),
    ]);
    model.initialize([1, 6, 6]);
    const [conv, bias, act, pool, fc] = model.layers as [Convolution, Bias, Activation, Pooling, Linear];
    const onBoxed = (shape: number[]): Tensor => withBackend(boxedBackend, () => uniform(shape));
    expect(() => model.fprop(onBoxed([2, 1, 6, 6]))).toThrow(/layer 'conv' \(Convolution\): its input lives on backend 'boxed' but its weights on 'cpu'/);
    expect(() => bias.fprop(onBoxed([2, 2, 4, 4]))).toThrow(/layer 'b' \(Bias\): its input lives on backend 'boxed' but its bias on 'cpu'/);
    expect(() => fc.fprop(onBoxed([2, 2, 2, 2]))).toThrow(/layer 'fc' \(Linear\): its input lives on backend 'boxed' but its weights on 'cpu'/);
    // backward: a forward pass on cpu, then a delta from boxed
    const y = model.fprop(uniform([2, 1, 6, 6]));
    expect(y.backend.name).toBe('cpu');
    expect(() => fc.bprop(onBoxed([2, 3]), true)).toThrow(/layer 'fc' \(Linear\): the input of its forward pass lives on backend 'cpu' but the delta on 'boxed'/);
    expect(() => pool.bprop(onBoxed([2, 2, 2, 2]), true)).toThrow(/layer 'pool' \(Pooling\): the input of its forward pass lives on backend 'cpu' but the delta on 'boxed'/);
    expect(() => act.bprop(onBoxed([2, 2, 4, 4]), true)).toThrow(/layer 'relu' \(Activation\): the output of its forward pass lives on backend 'cpu' but the delta on 'boxed'/);
    expect(() => bias.bprop(onBoxed([2, 2, 4, 4]), true)).toThrow(/layer 'b' \(Bias\): the delta lives on backend 'boxed' but its bias on 'cpu'/);
    expect(() => conv.bprop(onBoxed([2, 2, 4, 4]), true)).toThrow(/layer 'conv' \(Convolution\): the input of its forward pass lives on backend 'cpu' but the delta on 'boxed'/);
    expect(() => model.fprop(onBoxed([2, 1, 6, 6]))).toThrow(BackendError);
    expect(() => fc.bprop(onBoxed([2, 3]), true)).toThrow(BackendError);
  });

  it('a pooling layer run on another backend allocates its argmax there (it does not reuse the other backend\'s buffer)', () => {
    const pool = new Pooling(2, { name: 'p2' });
    pool.configure([1, 4, 4]);
    const x = tensor(Float32Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    pool.fprop(x, false);
    const xb = x.to(boxedBackend);
    const y = pool.fprop(xb, false);
    expect(y.backend).toBe(boxedBackend);
    expect(Array.from(y.toHost())).toEqual([5, 7, 13, 15]);
    const dx = pool.bprop(tensor([1, 2, 3, 4], [1, 1, 2, 2]).to(boxedBackend), true)!;
    expect(dx.backend).toBe(boxedBackend);
    expect(Array.from(dx.toHost())).toEqual([0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4]);
  });
});

describe('the dtypes a backend declares', () => {
  it('creating or moving a tensor of another dtype onto it is a BackendError naming the backend and its dtypes', () => {
    const f32only: Backend = { ...boxedBackend, name: 'f32only', dtypes: ['float32'] };
    const msg = /backend 'f32only' does not store float64 \(it stores float32\)/;
    const f64 = { dtype: 'float64', backend: f32only } as const;
    for (const make of [
      () => zeros([2], f64), () => full([2], 1, f64), () => uniform([2], 0, 1, f64), () => tensor(Float64Array.of(1, 2), [2], { backend: f32only }),
      () => tensor(Float64Array.of(1, 2)).to(f32only), () => toDtype(tensor([1, 2], [2], { backend: f32only }), 'float64'),
    ]) {
      expect(make).toThrow(BackendError);
      expect(make).toThrow(msg);
    }
    expect(zeros([2], { backend: f32only }).dtype).toBe('float32');
  });
});

describe('ops on a backend with opaque buffers', () => {
  it('forward and backward through the tape, float64 gradient checks', () => {
    withBackend(boxedBackend, () => {
      const g = new Generator(5);
      const t = (shape: number[]): Tensor => tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => g.uniform(-1, 1)), shape, { dtype: 'float64' });
      const x = t([2, 2, 5, 5]), w = t([3, 2, 3, 3]), b = t([3]);
      gradcheck((x, w, b) => maxPool2d(relu(conv2d(x!, w!, b!, { padding: 1 })), { kernel: 2 }), [x, w, b], { name: 'conv-relu-pool on boxed' });
      gradcheck((a, c) => softmax(maximum(a!, c!), 1), [t([3, 4]), t([3, 4])], { name: 'maximum-softmax on boxed' });
      gradcheck((a) => max(slice(a!, 1, 3, 1), 1), [t([2, 4, 3])], { name: 'slice-max on boxed' });
      const p = tensor(Float64Array.from([0.2, 0.7, 0.4, 0.9]), [2, 2], { dtype: 'float64' });
      gradcheck((y) => crossEntropyBinary(y!, p), [tensor(Float64Array.from([0.3, 0.6, 0.5, 0.8]), [2, 2], { dtype: 'float64' })], { name: 'cost on boxed' });
      manualSeed(1);
      const d = dropout(t([4, 4]).requiresGrad_(), 0.5);
      expect(d.backend).toBe(boxedBackend);
    });
  });

  it('a reduced VGG-16 trains on the boxed backend to bit-for-bit the reference backend\'s weights', async () => {
    const g = new Generator(2);
    const x = Float32Array.from({ length: 8 * 3 * 32 * 32 }, () => g.uniform(-1, 1));
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
    const run = async (): Promise<Float32Array[]> => {
      manualSeed(7);
      const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16, dropoutKeep: 0.5 });
      const train = new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 4 });
      await m.fit(train, { optimizer: new GradientDescentMomentum(0.01, { momentumCoef: 0.9, wdecay: 5e-4 }), numEpochs: 2, cost: new GeneralizedCost(CrossEntropyBinary()) });
      return m.layersToOptimize.flatMap((l) => l.params().map((p) => {
        expect(p.value.backend.name).toBe(m.layersToOptimize[0]!.params()[0]!.value.backend.name);
        return Float32Array.from(p.value.toHost());
      }));
    };
    setBackend('ref'); // the reference kernels, which `boxed` wraps
    let ref: Float32Array[];
    try {
      ref = await run();
    } finally {
      setBackend('cpu');
    }
    registerBackend(boxedBackend);
    setBackend('boxed'); // for the whole (asynchronous) fit
    let boxed: Float32Array[];
    try {
      boxed = await run();
    } finally {
      setBackend('cpu');
    }
    expect(boxed.length).toBe(ref.length);
    boxed.forEach((w, i) => expect(w).toEqual(ref[i]));
  }, 60_000);
});
