// The tape: gradient accumulation for tensors used several times, noGrad, detach,
// requiresGrad propagation, backward(outputGrad) with explicit gradients, repeated
// backward calls, and the gradient checker itself catching wrong gradients.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add, backward, Generator, gradcheck, GradcheckError, isGradEnabled, matmul, mul, noGrad, record, relu, sum, tanh, tensor, Tensor,
  exp, log, softmax, conv2d, linear, div, biasAdd,
} from '../../src/index.js';
import { t64, tensorSpecArb } from '../helpers/arbitraries.js';
import { expectClose } from '../helpers/check.js';

const leaf = (values: number[], shape: number[]) => tensor(Float64Array.from(values), shape, { dtype: 'float64', requiresGrad: true });

describe('gradient accumulation', () => {
  it('x used several times: d(x·x + x)/dx = 2x + 1', () => {
    fc.assert(fc.property(tensorSpecArb(0, 3, 4), (s) => {
      const x = t64(s, true);
      sum(add(mul(x, x), x)).backward();
      expectClose(x.grad!.data, s.values.map((v) => 2 * v + 1), 'd(x·x + x)/dx');
    }), { numRuns: 30 });
  });

  it('diamond graph: y = tanh(x), z = y·y + exp(y)·x, gradient flows through every path', () => {
    fc.assert(fc.property(tensorSpecArb(1, 3, 4), (s) => {
      const x = t64(s, true);
      const y = tanh(x);
      sum(add(mul(y, y), mul(exp(y), x))).backward();
      const expected = s.values.map((v) => {
        const t = Math.tanh(v), dt = 1 - t * t;
        return 2 * t * dt + Math.exp(t) * dt * v + Math.exp(t);
      });
      expectClose(x.grad!.data, expected, 'diamond gradient', 1e-9, 1e-12);
      gradcheck((x) => sum(add(mul(tanh(x!), tanh(x!)), mul(exp(tanh(x!)), x!))), [t64(s)], { name: 'diamond' });
    }), { numRuns: 20 });
  });

  it('a second backward() adds into .grad (like PyTorch); zeroGrad clears it', () => {
    const x = leaf([1, -2, 3], [3]);
    sum(mul(x, x)).backward();
    sum(mul(x, 3)).backward();
    expect(Array.from(x.grad!.data)).toEqual([2 + 3, -4 + 3, 6 + 3]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it('the leaf gradient is its own contiguous storage (not an alias of the output gradient)', () => {
    const x = leaf([1, 2, 3, 4], [2, 2]);
    const y = add(x, 1);
    const g = tensor(Float64Array.from([1, 2, 3, 4]), [2, 2], { dtype: 'float64' });
    y.backward(g);
    expect(x.grad!.storage).not.toBe(g.storage);
    g.setValues([100, 2, 3, 4]);
    expect(x.grad!.data[0]).toBe(1);
  });
});

describe('noGrad, detach, requiresGrad', () => {
  it('requiresGrad propagates: an op on any requiring input requires grad and records its op', () => {
    fc.assert(fc.property(fc.boolean(), fc.boolean(), (ra, rb) => {
      const a = tensor([1, 2, 3], [3], { requiresGrad: ra });
      const b = tensor([4, 5, 6], [3], { requiresGrad: rb });
      const y = mul(a, b);
      expect(y.requiresGrad).toBe(ra || rb);
      expect(y.gradFn?.op ?? null).toBe(ra || rb ? 'mul' : null);
      if (ra || rb) {
        sum(y).backward();
        expect(a.grad === null).toBe(!ra);
        expect(b.grad === null).toBe(!rb);
        if (ra) expect(Array.from(a.grad!.data)).toEqual([4, 5, 6]);
        if (rb) expect(Array.from(b.grad!.data)).toEqual([1, 2, 3]);
      }
    }));
  });

  it('only some inputs require grad (frozen layers): those get the same gradients as when all do, the others none', () => {
    const g = new Generator(3);
    const r = (...shape: number[]) => Float64Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => g.uniform(-1, 1));
    const cases: [string, number[][], (...xs: Tensor[]) => Tensor][] = [
      ['conv2d', [[2, 3, 5, 4], [2, 3, 3, 2], [2]], (x, w, b) => conv2d(x!, w!, b!, { padding: 1, stride: [2, 1] })],
      ['linear', [[3, 4], [5, 4], [5]], (x, w, b) => linear(x!, w!, b!)],
      ['matmul', [[3, 4], [4, 2]], (a, b) => matmul(a!, b!)],
      ['mul (broadcast)', [[3, 1, 4], [2, 4]], (a, b) => mul(a!, b!)],
      ['div (broadcast)', [[3, 4], [4]], (a, b) => div(a!, add(mul(b!, b!), 1))],
      ['biasAdd', [[2, 3, 4], [3]], (x, b) => biasAdd(x!, b!)],
    ];
    for (const [name, shapes, f] of cases) {
      const values = shapes.map((s) => r(...s));
      const run = (mask: boolean[]) => {
        const xs = shapes.map((s, i) => tensor(Float64Array.from(values[i]!), s, { dtype: 'float64', requiresGrad: mask[i]! }));
        const y = f(...xs);
        y.backward(tensor(Float64Array.from({ length: y.size }, (_, i) => Math.cos(i)), y.shape, { dtype: 'float64' }));
        return xs.map((x) => x.grad);
      };
      const all = run(shapes.map(() => true));
      fc.assert(fc.property(fc.array(fc.boolean(), { minLength: shapes.length, maxLength: shapes.length }).filter((m) => m.some(Boolean)), (mask) => {
        const some = run(mask);
        some.forEach((gr, i) => {
          if (!mask[i]) expect(gr, `${name}: input ${i} does not require grad`).toBeNull();
          else expectClose(gr!.data, all[i]!.data, `${name}: gradient of input ${i} with requiresGrad ${JSON.stringify(mask)}`, 1e-12, 1e-14);
        });
      }), { numRuns: 10 });
    }
  });

  it('noGrad records nothing, restores the mode afterwards (also when fn throws), and nests', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inner = noGrad(() => mul(x, x));
      expect(isGradEnabled()).toBe(false);
      return add(inner, x);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(Array.from(y.data)).toEqual([2, 6]);
    expect(() => sum(y).backward()).toThrow(/does not require grad/);
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });

  it('detach shares storage, requires no grad and stops the gradient', () => {
    const x = leaf([1, 2, 3], [3]);
    const d = mul(x, 2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    const x2 = x.detach();
    expect(x2.storage).toBe(x.storage);
    // y = x·detach(2x): dy/dx = detach(2x) = 2x, not 4x.
    sum(mul(x, d)).backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 4, 6]);
  });

  it('requiresGrad_(false) on a non-leaf is refused; on a leaf it stops gradients', () => {
    const x = leaf([1, 2], [2]);
    const y = mul(x, x);
    expect(() => y.requiresGrad_(false)).toThrow(/non-leaf.*detach/);
    const z = leaf([3, 4], [2]).requiresGrad_(false);
    sum(mul(x, z)).backward();
    expect(z.grad).toBeNull();
    expect(Array.from(x.grad!.data)).toEqual([3, 4]);
  });
});

describe('backward(outputGrad) with explicit gradients', () => {
  it('equals backward of Σ g ⊙ y, for a Tensor, a typed array and a number[]', () => {
    fc.assert(fc.property(tensorSpecArb(1, 3, 4), fc.integer({ min: 0, max: 2 }), (s, kind) => {
      const gen = new Generator(s.values.length);
      const g = Array.from({ length: s.values.length }, () => gen.uniform(-1, 1));
      const f = (x: Tensor) => softmax(mul(tanh(x), x), -1);

      const x1 = t64(s, true);
      const y1 = f(x1);
      const gArg = kind === 0 ? tensor(Float64Array.from(g), s.shape, { dtype: 'float64' }) : kind === 1 ? Float64Array.from(g) : g;
      y1.backward(gArg);

      const x2 = t64(s, true);
      sum(mul(f(x2), tensor(Float64Array.from(g), s.shape, { dtype: 'float64' }))).backward();
      expectClose(x1.grad!.data, x2.grad!.data, 'backward(g) vs backward(Σ g⊙y)', 1e-12, 1e-14);
    }), { numRuns: 30 });
  });

  it('a float32 gradient for a float64 output is converted', () => {
    const x = leaf([1, 2], [2]);
    mul(x, x).backward(tensor([1, 1], [2]));
    expect(Array.from(x.grad!.data)).toEqual([2, 4]);
    expect(x.grad!.dtype).toBe('float64');
  });

  it('a one-element output defaults to gradient 1; backward() as a free function too', () => {
    const x = leaf([3], [1]);
    backward(mul(x, x));
    expect(Array.from(x.grad!.data)).toEqual([6]);
  });

  it('wrong gradient shapes and sizes are refused with the shapes in the message', () => {
    const x = leaf([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow(/output has shape \[2, 3\].*pass a gradient/);
    expect(() => y.backward(tensor([1, 2, 3, 4, 5, 6], [3, 2]))).toThrow(/gradient of shape \[3, 2\].*output of shape \[2, 3\]/);
    expect(() => y.backward([1, 2, 3])).toThrow(/3 values.*\[2, 3\] has 6/);
  });
});

describe('deep graphs', () => {
  it('backward over a chain of 12 000 ops does not overflow the stack', () => {
    const x = leaf([0.5], [1]);
    let y: Tensor = x;
    for (let i = 0; i < 12000; i++) y = add(y, 1e-4);
    y.backward();
    expect(x.grad!.data[0]).toBe(1);
  });
});

describe('gradcheck catches wrong gradients with a readable message', () => {
  // A custom op through `record`, as a learner would write one: y = x³ with a wrong backward.
  function cubeWrong(x: Tensor): Tensor {
    const out = tensor(x.data.map((v) => v * v * v), x.shape, { dtype: x.dtype });
    return record('cube', [x], out, (g) => [mul(g, mul(x, x).detach())]); // missing the factor 3
  }
  function cubeRight(x: Tensor): Tensor {
    const out = tensor(x.data.map((v) => v * v * v), x.shape, { dtype: x.dtype });
    return record('cube', [x], out, (g) => [mul(g, mul(mul(x, x), 3).detach())]);
  }

  it('passes a correct custom op and reports what it checked', () => {
    const r = gradcheck(cubeRight, [tensor([0.5, -1, 2], [3])], { name: 'cube' });
    expect(r.checked).toBe(3);
    expect(r.maxAbsError).toBeLessThan(1e-6);
  });

  it('names the op, input, shape, index, analytic and numeric values', () => {
    let err: unknown;
    try {
      gradcheck((a, x) => add(a!, cubeWrong(x!)), [tensor([0, 0, 0, 0], [2, 2]), tensor([0, 0, 0, 2], [2, 2])], { name: 'cube' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GradcheckError);
    const msg = (err as Error).message;
    expect(msg).toContain('gradcheck(cube)');
    expect(msg).toContain('input 1 of shape [2, 2]');
    expect(msg).toContain('index [1, 1]');
    // analytic 4·w (x² without the 3) vs numeric 12·w for the projection weight w.
    expect(msg).toMatch(/analytic -?[\d.e-]+ vs numeric -?[\d.e-]+/);
    const [, a, n] = msg.match(/analytic (-?[\d.e-]+) vs numeric (-?[\d.e-]+)/)!;
    expect(Number(n) / Number(a)).toBeCloseTo(3, 5);
  });

  it('relu at its kink: the checker reports the mismatch rather than hiding it', () => {
    expect(() => gradcheck((x) => relu(x!), [tensor([0], [1])], { name: 'relu' })).toThrow(/gradcheck\(relu\).*index \[0\].*analytic 0 vs numeric/);
  });

  it('an output that depends on no checked input is reported', () => {
    expect(() => gradcheck((_x, y) => mul(y!, 2), [tensor([1], [1]), tensor([2], [1])], { name: 'ignores', wrt: [0] })).toThrow(/gradcheck\(ignores\).*does not depend/);
  });

  it('maxChecks limits the work on big inputs', () => {
    const r = gradcheck((x, w) => conv2d(x!, w!), [tensor(new Float32Array(2 * 3 * 6 * 6).map((_, i) => Math.sin(i)), [2, 3, 6, 6]), tensor(new Float32Array(2 * 3 * 3 * 3).map((_, i) => Math.cos(i)), [2, 3, 3, 3])], { maxChecks: 10 });
    expect(r.checked).toBe(20);
  });

  it('uses the function name when no name is given', () => {
    function myLog(x: Tensor): Tensor { return log(x); }
    expect(() => gradcheck(myLog, [tensor([-1], [1])])).toThrow(/gradcheck\(myLog\)/);
  });

  it('works on matmul of float32 inputs (copied to float64)', () => {
    const r = gradcheck((a, b) => matmul(a!, b!), [tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 0, -1, 2, 0.5, 1], [3, 2])]);
    expect(r.checked).toBe(12);
  });
});
