// The tests of exercise conv-im2col (run: npm run exercise conv-im2col).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backend, conv2d, Generator, registerBackend, tensor, type Backend, type Tensor } from '../../src/index.js';
import { defineExercise } from '../harness.js';

type Impl = typeof import('./conv-im2col.js');

function random(shape: number[], seed: number): Tensor {
  const g = new Generator(seed);
  return tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => g.uniform(-1, 1)), shape, { dtype: 'float64' });
}

function expectSame(actual: Tensor, expected: Tensor): void {
  assert.deepEqual([...actual.shape], [...expected.shape], 'output shape');
  const a = actual.data, e = expected.data;
  for (let i = 0; i < e.length; i++) assert.ok(Math.abs(a[i]! - e[i]!) <= 1e-12 * (1 + Math.abs(e[i]!)), `element ${i}: got ${a[i]}, expected ${e[i]}`);
}

export default defineExercise<Impl>({
  title: 'a convolution from the backend\'s im2col and gemm kernels',
  cases: {
    '3×3, padding 1: the same as conv2d': ({ conv2dIm2col }) => {
      const x = random([2, 3, 5, 6], 1), w = random([4, 3, 3, 3], 2);
      expectSame(conv2dIm2col(x, w, { padding: 1 }), conv2d(x, w, null, { padding: 1 }));
    },
    'stride 2, dilation 2, no padding, a 2×3 filter': ({ conv2dIm2col }) => {
      const x = random([1, 2, 9, 8], 3), w = random([3, 2, 2, 3], 4);
      expectSame(conv2dIm2col(x, w, { stride: 2, dilation: 2 }), conv2d(x, w, null, { stride: 2, dilation: 2 }));
    },
    'a non-contiguous input (a permuted view)': ({ conv2dIm2col }) => {
      const base = random([2, 5, 4, 3], 5); // [N, W, H, C] → permute to [N, C, H, W]
      const x = base.permute([0, 3, 2, 1]), w = random([2, 3, 3, 3], 6);
      expectSame(conv2dIm2col(x, w, { padding: 1 }), conv2d(x.contiguous(), w, null, { padding: 1 }));
    },
    'random geometries (fast-check)': ({ conv2dIm2col }) => {
      const geom = fc.record({
        N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }), K: fc.integer({ min: 1, max: 3 }),
        H: fc.integer({ min: 3, max: 8 }), W: fc.integer({ min: 3, max: 8 }), R: fc.integer({ min: 1, max: 3 }), S: fc.integer({ min: 1, max: 3 }),
        stride: fc.integer({ min: 1, max: 3 }), padding: fc.integer({ min: 0, max: 2 }), dilation: fc.integer({ min: 1, max: 2 }), seed: fc.nat(1000),
      }).filter((g) => g.dilation * (g.R - 1) + 1 <= g.H + 2 * g.padding && g.dilation * (g.S - 1) + 1 <= g.W + 2 * g.padding);
      fc.assert(fc.property(geom, ({ N, C, K, H, W, R, S, stride, padding, dilation, seed }) => {
        const x = random([N, C, H, W], seed), w = random([K, C, R, S], seed + 1);
        expectSame(conv2dIm2col(x, w, { stride, padding, dilation }), conv2d(x, w, null, { stride, padding, dilation }));
      }), { numRuns: 60, seed: 15 });
    },
    'uses im2col and gemm once per image, and no convolution kernel': ({ conv2dIm2col }) => {
      const be = backend();
      const calls = { im2col: 0, gemm: 0, conv: 0 };
      const spy: Backend = {
        ...be,
        name: 'exercise-spy',
        im2col: (...a) => { calls.im2col++; be.im2col(...a); },
        gemm: (...a) => { calls.gemm++; be.gemm(...a); },
        conv2dForward: (...a) => { calls.conv++; be.conv2dForward(...a); },
      };
      registerBackend(spy);
      const x = random([3, 2, 4, 4], 7).to(spy), w = random([2, 2, 3, 3], 8).to(spy);
      const y = conv2dIm2col(x, w, { padding: 1 });
      assert.equal(y.backend, spy, 'the output should live on the input\'s backend');
      assert.deepEqual(calls, { im2col: 3, gemm: 3, conv: 0 });
    },
  },
});
