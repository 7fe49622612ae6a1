// The tests of track task 4, im2col (run: npm run exercise im2col).
import assert from 'node:assert/strict';
import { col2im as refCol2im, im2col as refIm2col } from '../../src/kernels/cpu/ref/im2col.js';
import type { WindowGeometry } from '../../src/index.js';
import { defineExercise } from '../harness.js';
import { backendWith, convRowsFrom, expectClose, expectSameTraining, randomArray, trainTiny, windowGeometry } from '../kit.js';

type Impl = typeof import('./im2col.js');

const geoms: [string, WindowGeometry][] = [
  ['3×3, padding 1', windowGeometry('im2col', 2, 4, 5, 3, 3, { padding: 1 })],
  ['2×3, stride 2, padding [1, 0], dilation [1, 2]', windowGeometry('im2col', 2, 7, 8, 2, 3, { stride: 2, padding: [1, 0], dilation: [1, 2] })],
  ['1×1', windowGeometry('im2col', 3, 2, 3, 1, 1, {})],
];
const describe = (g: WindowGeometry): string => `image [C=${g.C}, H=${g.H}, W=${g.W}], window ${g.R}×${g.S}, stride ${g.strideH},${g.strideW}, padding ${g.padH},${g.padW}, dilation ${g.dilH},${g.dilW} → P×Q = ${g.P}×${g.Q}`;

export default defineExercise<Impl>({
  title: 'im2col and col2im indexing, plugged into a backend whose convolution trains a tiny conv net',
  cases: {
    'im2col: each column is one output pixel\'s window, row (c, r, s), zeros in the padding': ({ im2col }) => {
      for (const [, g] of geoms) {
        const CRS = g.C * g.R * g.S, PQ = g.P * g.Q;
        const x = randomArray(3 + g.C * g.H * g.W, 1);
        const got = new Float64Array(CRS * PQ).fill(NaN), want = new Float64Array(CRS * PQ);
        refIm2col(x, 3, g, want);
        im2col(x, 3, g, got);
        expectClose(`im2col, ${describe(g)}, input at offset 3: cols element [c, r, s, p, q]`, got, want, [g.C, g.R, g.S, g.P, g.Q]);
      }
    },
    'im2col into a block of a wider matrix (colsOffset, ldCols)': ({ im2col }) => {
      const g = geoms[0]![1], CRS = g.C * g.R * g.S, PQ = g.P * g.Q, ld = 2 * PQ + 1;
      const x = randomArray(g.C * g.H * g.W, 2);
      const got = new Float64Array(CRS * ld + PQ), want = new Float64Array(CRS * ld + PQ);
      refIm2col(x, 0, g, want, PQ, ld);
      im2col(x, 0, g, got, PQ, ld);
      expectClose(`im2col with colsOffset ${PQ}, ldCols ${ld} (the image's block is columns ${PQ}..${2 * PQ - 1} of each row): array element`, got, want, [CRS * ld + PQ]);
    },
    'col2im adds back onto the pixels each element was read from (and keeps what dx held)': ({ col2im }) => {
      for (const [, g] of geoms) {
        const CRS = g.C * g.R * g.S, CHW = g.C * g.H * g.W;
        const cols = randomArray(CRS * g.P * g.Q, 3);
        const got = randomArray(2 + CHW, 4), want = Float64Array.from(got);
        refCol2im(cols, g, want, 2);
        col2im(cols, g, got, 2);
        expectClose(`col2im, ${describe(g)}, dx at offset 2 (it must += onto what dx holds): dx element [c, h, w]`, got.subarray(2), want.subarray(2), [g.C, g.H, g.W]);
        assert.ok(got[0] === want[0] && got[1] === want[1], 'col2im wrote before dxOffset');
      }
    },
    'plugged into backend ex-im2col (its convolution is your im2col + gemm + your col2im): a tiny conv net trains as on ref': async ({ im2col, col2im }) => {
      const be = backendWith('ex-im2col', {
        ...convRowsFrom(im2col, col2im),
        im2col: (x, xo, g, cols, co, ld) => im2col(x as never, xo, g, cols as never, co, ld),
        col2im: (cols, g, dx, dxo, co, ld) => col2im(cols as never, g, dx as never, dxo, co, ld),
      });
      expectSameTraining('backend ex-im2col (your im2col/col2im in every convolution) vs ref', await trainTiny(be, { kind: 'conv' }), await trainTiny('ref', { kind: 'conv' }));
    },
  },
});
