// The tests of track task 8, gdm-update (run: npm run exercise gdm-update).
import { gdmUpdate as refUpdate } from '../../src/kernels/cpu/ref/gdm.js';
import type { GdmStep } from '../../src/kernels/backend.js';
import { defineExercise } from '../harness.js';
import { arr, backendWith, expectClose, expectSameTraining, randomArray, trainTiny } from '../kit.js';

type Impl = typeof import('./gdm-update.js');

const base: GdmStep = { lr: 0.1, scale: 1, bsz: 4, mu: 0.9, wdecay: 0, nesterov: false, gclip: null, pclip: null };

/** Three steps from the same state, yours and the reference's, in float32 storage: p and v compared after each. */
function steps(impl: Impl, what: string, s: GdmStep): void {
  const n = 7;
  const p = Float32Array.from(randomArray(n, 1)), v = s.mu === 0 ? null : Float32Array.from(randomArray(n, 2, 'float32').map((x) => 0.1 * x));
  const wp = Float32Array.from(p), wv = v && Float32Array.from(v);
  for (let k = 0; k < 3; k++) {
    const g = Float32Array.from(randomArray(n, 10 + k).map((x) => 3 * x));
    refUpdate(wp, g, wv, n, s);
    impl.gdmUpdate(p, g, v, n, s);
    const label = `gdmUpdate with ${what} (${JSON.stringify(s)}), step ${k + 1}`;
    if (v && wv) expectClose(`${label}: velocity v`, v, wv, [n], 1e-6, 1e-7);
    expectClose(`${label}: parameter p`, p, wp, [n], 1e-6, 1e-7);
  }
}

export default defineExercise<Impl>({
  title: 'the momentum-SGD update in neon\'s order, plugged into a backend that trains a tiny MLP',
  cases: {
    'μ = 0: p = −lr·scale·g/bsz + (1 − lr·wdecay)·p': (impl) => steps(impl, 'no momentum, weight decay', { ...base, mu: 0, wdecay: 0.01, scale: 0.5 }),
    'μ ≠ 0: v = μ·v − lr·(scale·g + wdecay·p), p += v': (impl) => steps(impl, 'momentum and weight decay', { ...base, wdecay: 0.01, scale: 0.7 }),
    'Nesterov: p += μ·v − lr·g\' with the new v': (impl) => steps(impl, 'Nesterov momentum', { ...base, nesterov: true, wdecay: 0.001 }),
    'clips: each averaged gradient to ±gclip, the new parameter to ±pclip': (impl) => steps(impl, 'gradient and parameter clips', { ...base, gclip: 0.2, pclip: 0.5 }),
    'μ = 0 with pclip: neon does not apply the parameter clip in this branch': (impl) => steps(impl, 'no momentum and a parameter clip (not applied)', { ...base, mu: 0, pclip: 0.05 }),
    'plugged into backend ex-gdm (ref with your update): GradientDescentMomentum trains a tiny MLP as on ref': async ({ gdmUpdate }) => {
      const be = backendWith('ex-gdm', { gdmUpdate: (p, g, v, n, s) => gdmUpdate(arr(p), g && arr(g), v && arr(v), n, s) });
      expectSameTraining('backend ex-gdm (your update) vs ref', await trainTiny(be, { kind: 'mlp' }), await trainTiny('ref', { kind: 'mlp' }));
    },
  },
});
