// Bad input: shape mismatches (matmul, linear, conv channels, broadcasting, bias, costs),
// invalid conv / pool parameters (kernel larger than the padded input, stride 0, negative
// or fractional padding) and NaN gradients in the checker raise errors that name the op
// and the offending shapes or values; ShapeError only for shapes (ValueError for option
// values, BackendError for dtype and backend mismatches).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add, avgPool2d, biasAdd, conv2d, Convolution, crossEntropyBinary, crossEntropyMulti, div, dropout, gradcheck, GradcheckError, linear, log, matmul,
  maxPool2d, mul, permute, Pooling, record, reshape, ShapeError, slice, softmax, sub, sum, sqrt, sumSquared, tensor, Tensor, TlError, transpose, view, zeros,
} from '../../src/index.js';
import { BackendError, ValueError } from '../../src/util/errors.js';
import { shapeArb } from '../helpers/arbitraries.js';

/** The error thrown by fn (fails the test if none). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

const z = (...shape: number[]) => zeros(shape);
const str = (s: readonly number[]) => `[${s.join(', ')}]`;

describe('shape mismatches', () => {
  it('matmul names both shapes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (m, k, k2, n) => {
      fc.pre(k !== k2);
      const e = errorOf(() => matmul(z(m, k), z(k2, n)));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toContain('matmul');
      expect(e.message).toContain(`${str([m, k])} by ${str([k2, n])}`);
    }), { numRuns: 20 });
    expect(errorOf(() => matmul(z(2, 3, 4), z(4, 2))).message).toMatch(/matmul.*\[2, 3, 4\].*\[4, 2\]/);
  });

  it('linear names input and weight', () => {
    expect(errorOf(() => linear(z(4, 5), z(3, 6))).message).toMatch(/linear: input \[4, 5\] does not fit weight \[3, 6\]/);
    expect(errorOf(() => linear(z(4, 5), z(3, 5), z(4))).message).toMatch(/biasAdd.*\[4\].*\[4, 3\]/);
  });

  it('broadcasting names the op, both shapes and the axis', () => {
    fc.assert(fc.property(shapeArb(1, 3, 4), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 2, max: 4 }), (lead, d1, d2) => {
      fc.pre(d1 !== d2);
      const a = [...lead, d1], b = [d2];
      for (const [name, op] of [['add', add], ['sub', sub], ['mul', mul], ['div', div]] as const) {
        const e = errorOf(() => op(z(...a), z(...b)));
        expect(e).toBeInstanceOf(ShapeError);
        expect(e.message).toContain(`${name}: shapes ${str(a)} and ${str(b)} cannot be broadcast`);
        expect(e.message).toContain(`axis ${lead.length}: ${d1} vs ${d2}`);
      }
    }), { numRuns: 15 });
  });

  it('conv2d: channel mismatch, wrong ranks, bias size', () => {
    const e = errorOf(() => conv2d(z(2, 3, 8, 8), z(4, 5, 3, 3)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('conv2d: input has 3 channels but the weight [4, 5, 3, 3] expects 5');
    expect(e.message).toContain('[2, 3, 8, 8]');
    expect(errorOf(() => conv2d(z(3, 8, 8), z(4, 3, 3, 3))).message).toMatch(/conv2d: expected x \[N, C, H, W\].*x \[3, 8, 8\] and w \[4, 3, 3, 3\]/);
    expect(errorOf(() => conv2d(z(1, 3, 8, 8), z(4, 3, 3, 3), z(5))).message).toMatch(/conv2d: bias of shape \[5\] does not match 4 output channels/);
  });

  it('biasAdd, costs, reshape, view, permute, slice, axes, softmax, tensor()', () => {
    expect(errorOf(() => biasAdd(z(2, 3, 4), z(4))).message).toMatch(/biasAdd: bias \[4\] does not match the channels of x \[2, 3, 4\]/);
    for (const [name, cost] of [['crossEntropyBinary', crossEntropyBinary], ['crossEntropyMulti', crossEntropyMulti], ['sumSquared', sumSquared]] as const) {
      expect(errorOf(() => cost(z(4, 3), z(4, 2))).message).toContain(`${name}: outputs [4, 3] and targets [4, 2] differ in shape`);
    }
    expect(errorOf(() => reshape(z(2, 3), [4, 2])).message).toMatch(/reshape: cannot reshape \[2, 3\] \(6 values\) to \[4, 2\]/);
    expect(errorOf(() => reshape(z(2, 3), [4, -1])).message).toMatch(/reshape: cannot infer -1 in \[4, -1\] for 6 values/);
    expect(errorOf(() => view(transpose(z(2, 3)), [6])).message).toMatch(/view: tensor of shape \[3, 2\] is not contiguous/);
    expect(errorOf(() => permute(z(2, 3, 4), [0, 0, 1])).message).toMatch(/permute: order \[0, 0, 1\] is not a permutation of the 3 axes of \[2, 3, 4\]/);
    expect(errorOf(() => slice(z(5, 2), 2, 7)).message).toMatch(/slice: range \[2, 7\) out of bounds for axis 0 of size 5/);
    expect(errorOf(() => sum(z(2, 3), 2)).message).toMatch(/sum: axis 2 out of range for a tensor of 2 dimensions/);
    expect(errorOf(() => softmax(z(2, 3), -3)).message).toMatch(/softmax: axis -3 out of range/);
    expect(errorOf(() => tensor([1, 2, 3], [2, 2])).message).toMatch(/tensor: 3 values do not fit shape \[2, 2\]/);
    expect(errorOf(() => zeros([2, -1])).message).toMatch(/full: invalid shape \[2, -1\]/);
    expect(errorOf(() => z(2, 3).item()).message).toMatch(/item\(\): tensor of shape \[2, 3\] has 6 values/);
  });
});

describe('ShapeError is for shapes only: bad option values and dtype mismatches have their own classes', () => {
  it('a dtype mismatch is a BackendError, a keep probability out of range or a stride of 0 a ValueError', () => {
    const dtypes = errorOf(() => add(z(2), tensor([1, 2], [2], { dtype: 'float64' })));
    expect(dtypes).toBeInstanceOf(BackendError);
    expect(dtypes).not.toBeInstanceOf(ShapeError);
    expect(dtypes.message).toMatch(/add: inputs have different dtypes \(float32, float64\)/);
    const keep = errorOf(() => dropout(z(2), 0));
    expect(keep).toBeInstanceOf(ValueError);
    expect(keep.message).toMatch(/dropout: keep must be in \(0, 1\], got 0/);
    const stride = errorOf(() => conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), null, { stride: 0 }));
    expect(stride).toBeInstanceOf(ValueError);
    expect(errorOf(() => maxPool2d(z(1, 1, 4, 4), { kernel: 2, padding: 2 }))).toBeInstanceOf(ValueError);
    // The layers take neon's `strides`, and their messages say so.
    const layerStride = errorOf(() => new Convolution([3, 3, 4], { strides: 0, name: 'c' }).configure([1, 5, 5]));
    expect(layerStride).toBeInstanceOf(ValueError);
    expect(layerStride.message).toBe("layer 'c': strides must be a positive integer, got 0");
    expect(errorOf(() => new Pooling(2, { strides: [1, 0], name: 'p' }).configure([1, 4, 4])).message).toBe("layer 'p': strides must be a positive integer, got 0");
    for (const e of [dtypes, keep, stride]) expect(e).toBeInstanceOf(TlError);
  });
});

describe('invalid convolution parameters name the op and the values', () => {
  it('kernel larger than the padded input (also through dilation)', () => {
    const e = errorOf(() => conv2d(z(1, 1, 3, 4), z(1, 1, 5, 2)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('conv2d: kernel 5×2 is larger than the padded input 3×4 (input 3×4, padding 0,0)');
    expect(errorOf(() => conv2d(z(1, 1, 4, 4), z(1, 1, 3, 3), null, { dilation: 2 })).message)
      .toContain('conv2d: kernel 3×3 (dilated to 5×5) is larger than the padded input 4×4');
    // With padding the same kernel fits.
    expect(conv2d(z(1, 1, 3, 4), z(1, 1, 5, 2), null, { padding: [1, 0] }).shape).toEqual([1, 1, 1, 3]);
  });

  it('property: conv2d succeeds exactly when the dilated kernel fits the padded input, with the documented output size', () => {
    const i = (min: number, max: number) => fc.integer({ min, max });
    fc.assert(fc.property(i(1, 6), i(1, 6), i(1, 4), i(1, 4), i(1, 3), i(0, 2), i(1, 2), (H, W, R, S, stride, pad, dil) => {
      const fits = dil * (R - 1) + 1 <= H + 2 * pad && dil * (S - 1) + 1 <= W + 2 * pad;
      const run = () => conv2d(z(1, 2, H, W), z(3, 2, R, S), null, { stride, padding: pad, dilation: dil });
      if (fits) {
        expect(run().shape).toEqual([1, 3, Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1, Math.floor((W + 2 * pad - dil * (S - 1) - 1) / stride) + 1]);
      } else {
        expect(errorOf(run).message).toMatch(new RegExp(`conv2d: kernel ${R}×${S}.* is larger than the padded input ${H + 2 * pad}×${W + 2 * pad}`));
      }
    }), { numRuns: 100 });
  });

  it('stride 0, negative or fractional stride / padding / dilation', () => {
    const x = z(1, 1, 5, 5), w = z(1, 1, 3, 3);
    expect(errorOf(() => conv2d(x, w, null, { stride: 0 })).message).toBe('conv2d: stride must be a positive integer, got 0');
    expect(errorOf(() => conv2d(x, w, null, { stride: [1, -2] })).message).toBe('conv2d: stride must be a positive integer, got -2');
    expect(errorOf(() => conv2d(x, w, null, { stride: 1.5 })).message).toBe('conv2d: stride must be a positive integer, got 1.5');
    expect(errorOf(() => conv2d(x, w, null, { padding: -1 })).message).toBe('conv2d: padding must be a non-negative integer, got -1');
    expect(errorOf(() => conv2d(x, w, null, { padding: [0, 0.5] })).message).toBe('conv2d: padding must be a non-negative integer, got 0.5');
    expect(errorOf(() => conv2d(x, w, null, { dilation: 0 })).message).toBe('conv2d: dilation must be a positive integer, got 0');
  });
});

describe('invalid pooling parameters name the op and the values', () => {
  for (const [name, pool] of [['maxPool2d', maxPool2d], ['avgPool2d', avgPool2d]] as const) {
    it(name, () => {
      const x = z(1, 2, 3, 4);
      const e = errorOf(() => pool(x, { kernel: 5 }));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toContain(`${name}: kernel 5×5 is larger than the padded input 3×4`);
      expect(errorOf(() => pool(x, { kernel: [2, 5] })).message).toContain(`${name}: kernel 2×5 is larger than the padded input 3×4`);
      expect(errorOf(() => pool(x, { kernel: 2, stride: 0 })).message).toBe(`${name}: stride must be a positive integer, got 0`);
      expect(errorOf(() => pool(x, { kernel: 2, padding: -1 })).message).toBe(`${name}: padding must be a non-negative integer, got -1`);
      expect(errorOf(() => pool(x, { kernel: 0 })).message).toBe(`${name}: kernel height must be a positive integer, got 0`);
      expect(errorOf(() => pool(x, { kernel: 2, padding: 2 })).message).toContain(`${name}: padding 2,2 must be at most half the kernel 2×2`);
      expect(errorOf(() => pool(z(2, 3, 4), { kernel: 2 })).message).toContain(`${name}: expected x [N, C, H, W], got [2, 3, 4]`);
    });
  }
});

describe('NaN and infinite gradients in the checker', () => {
  it('a NaN analytic gradient names the op, input, shape, index and both values', () => {
    const nanOp = (x: Tensor) => record('nanBackward', [x], mul(x, 2).detach(), (g) => [mul(g, NaN)]);
    const e = errorOf(() => gradcheck(nanOp, [tensor([1, 2, 3, 4, 5, 6], [2, 3])], { name: 'nanBackward' }));
    expect(e).toBeInstanceOf(GradcheckError);
    expect(e.message).toMatch(/^gradcheck\(nanBackward\): input 0 of shape \[2, 3\], index \[0, 0\]: analytic gradient is NaN \(numeric -?[\d.]+/);
  });

  it('a NaN numeric gradient (the function is not finite near the input) is reported as such', () => {
    // log at 1e-7 is finite, but x − eps (eps = 1e-6) is negative.
    const x = tensor(Float64Array.from([1, 1e-7]), [2], { dtype: 'float64' });
    const e = errorOf(() => gradcheck((x) => log(x!), [x], { name: 'log' }));
    expect(e).toBeInstanceOf(GradcheckError);
    expect(e.message).toMatch(/gradcheck\(log\): input 0 of shape \[2\], index \[1\]: numeric gradient is NaN \(analytic -?[\d.e+]+\); the function is not finite near this input/);
  });

  it('a NaN in the output is reported at its own index, not blamed on the first input element', () => {
    const e = errorOf(() => gradcheck((x) => log(x!), [tensor([1, 0.5, -2], [3])], { name: 'log' }));
    expect(e).toBeInstanceOf(GradcheckError);
    expect(e.message).toBe('gradcheck(log): output of shape [3] is NaN at index [2]; gradients are not defined there (inputs of shape [3])');
  });

  it('an infinite analytic gradient is reported', () => {
    // sqrt(0) = 0 is finite; its derivative 1/(2·sqrt(x)) is not.
    const e = errorOf(() => gradcheck((x) => sqrt(x!), [tensor([4, 0], [2])], { name: 'sqrt' }));
    expect(e).toBeInstanceOf(GradcheckError);
    expect(e.message).toMatch(/gradcheck\(sqrt\): input 0 of shape \[2\], index \[1\]: analytic gradient is -?Infinity/);
  });

  it('an infinite output is reported with its index', () => {
    const e = errorOf(() => gradcheck((x) => div(tensor([1], [1], { dtype: 'float64' }), x!), [tensor([0], [1])], { name: 'reciprocal' }));
    expect(e.message).toBe('gradcheck(reciprocal): output of shape [1] is Infinity at index [0]; gradients are not defined there (inputs of shape [1])');
  });
});
