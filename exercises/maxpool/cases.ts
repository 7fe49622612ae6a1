// The tests of track task 5, maxpool (run: npm run exercise maxpool).
import { maxPoolBackward as refBackward, maxPoolForward as refForward } from '../../src/kernels/cpu/ref/pool.js';
import type { FloatArray, WindowGeometry } from '../../src/index.js';
import { defineExercise } from '../harness.js';
import { arr, backendWith, expectClose, expectSameTraining, idx, randomArray, trainTiny, windowGeometry } from '../kit.js';

type Impl = typeof import('./maxpool.js');

const geoms: [string, WindowGeometry][] = [
  ['2×2, stride 2', windowGeometry('pool', 2, 4, 6, 2, 2, { stride: 2 })],
  ['3×3, stride 2, padding 1 (windows overlap, some hang over the edge)', windowGeometry('pool', 1, 5, 5, 3, 3, { stride: 2, padding: 1 })],
  ['3×2, stride [1, 2]', windowGeometry('pool', 2, 4, 5, 3, 2, { stride: [1, 2] })],
];

function check(impl: Impl, what: string, g: WindowGeometry, x: FloatArray, N: number): void {
  const out = N * g.C * g.P * g.Q, shape = [N, g.C, g.P, g.Q];
  const y = new Float64Array(out).fill(NaN), a = new Int32Array(out).fill(-7), wy = new Float64Array(out), wa = new Int32Array(out);
  refForward(x, N, g, wy, wa);
  impl.maxPoolForward(x, N, g, y, a);
  expectClose(`maxPoolForward, ${what}: y element [n, c, p, q]`, y, wy, shape);
  expectClose(`maxPoolForward, ${what}: argmax (h·W + w of the window's first maximum) at [n, c, p, q]`, a, wa, shape);
  const dy = randomArray(out, 5);
  const dx = randomArray(x.length, 6), wdx = Float64Array.from(dx);
  refBackward(dy, wa, N, g, wdx);
  impl.maxPoolBackward(dy, wa, N, g, dx);
  expectClose(`maxPoolBackward, ${what} (it must += onto what dx holds): dx element [n, c, h, w]`, dx, wdx, [N, g.C, g.H, g.W]);
}

export default defineExercise<Impl>({
  title: 'max pooling with its argmax, plugged into a backend that trains a tiny conv net',
  cases: {
    'forward (max and argmax) and backward on three geometries': (impl) => {
      for (const [what, g] of geoms) check(impl, what, g, randomArray(2 * g.C * g.H * g.W, 1), 2);
    },
    'ties: the first maximum (row-major) wins, and only it gets the gradient': (impl) => {
      const g = geoms[1]![1];
      check(impl, 'an input of equal values (every window ties)', g, new Float64Array(g.C * g.H * g.W).fill(0.5), 1);
    },
    'negative inputs: the padding (not a value) never wins': (impl) => {
      const g = geoms[1]![1];
      check(impl, 'all inputs negative, padding 1', g, randomArray(g.C * g.H * g.W, 3).map((v) => -1 - Math.abs(v)), 1);
    },
    'plugged into backend ex-maxpool (ref with your pooling): a tiny conv net trains as on ref': async ({ maxPoolForward, maxPoolBackward }) => {
      const be = backendWith('ex-maxpool', {
        maxPoolForward: (x, N, g, y, a) => maxPoolForward(arr(x), N, g, arr(y), idx(a)),
        maxPoolBackward: (dy, a, N, g, dx) => maxPoolBackward(arr(dy), idx(a), N, g, arr(dx)),
      });
      expectSameTraining('backend ex-maxpool (your pooling) vs ref', await trainTiny(be, { kind: 'conv' }), await trainTiny('ref', { kind: 'conv' }));
    },
  },
});
