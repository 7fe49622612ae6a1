// Track task 8, gdm-update: your work. See README.md; run `npm run exercise gdm-update`.
import type { FloatArray } from '../../src/index.js';
import type { GdmStep } from '../../src/kernels/backend.js';

/**
 * One step of neon's momentum SGD in place over n elements: parameters p, gradients g
 * (summed over a batch of step.bsz), velocities v (null when step.mu = 0). In neon's order:
 *   g = grad / bsz, clipped to ±gclip (when gclip ≠ null)
 *   μ = 0:  p = −lr·scale·g + (1 − lr·wdecay)·p          (pclip is not applied: neon's quirk)
 *   μ ≠ 0:  g' = scale·g + wdecay·p;  v = μ·v − lr·g'  (store v, then read the stored value back)
 *           p = p + v, or with nesterov p = p + μ·v − lr·g'; then clipped to ±pclip (when ≠ null)
 */
export function gdmUpdate(p: FloatArray, g: FloatArray | null, v: FloatArray | null, n: number, step: GdmStep): void {
  const { lr, mu, nesterov, pclip } = step;
  if (lr === 0) {
    // Given: at learning rate 0 the gradient is not read (it may be null): v = μ·v; p += v (or μ·v with Nesterov).
    if (v === null) return;
    for (let i = 0; i < n; i++) {
      v[i] = mu * v[i]!;
      let next = p[i]! + (nesterov ? v[i]! * mu : v[i]!);
      if (pclip !== null) next = Math.min(Math.max(next, -pclip), pclip);
      p[i] = next;
    }
    return;
  }
  if (g === null) throw new Error('gdmUpdate: a gradient is needed at learning rate ≠ 0');
  // TODO: the two branches above, element by element.
  throw new Error(`TODO: the momentum-SGD update of ${n} parameters (${p.length} values, ${g.length} gradients, ${v ? v.length : 'no'} velocities) with ${JSON.stringify(step)}`);
}
