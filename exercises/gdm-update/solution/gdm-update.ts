// Track task 8, gdm-update: a reference solution (as src/kernels/cpu/ref/gdm.ts, without its −0 care).
import type { FloatArray } from '../../../src/index.js';
import type { GdmStep } from '../../../src/kernels/backend.js';

const clip = (x: number, c: number | null): number => (c === null ? x : Math.min(Math.max(x, -c), c));

export function gdmUpdate(p: FloatArray, g: FloatArray | null, v: FloatArray | null, n: number, step: GdmStep): void {
  const { lr, scale, bsz, mu, wdecay, nesterov, gclip, pclip } = step;
  if (lr === 0) {
    if (v === null) return;
    for (let i = 0; i < n; i++) {
      v[i] = mu * v[i]!;
      p[i] = clip(p[i]! + (nesterov ? v[i]! * mu : v[i]!), pclip);
    }
    return;
  }
  if (g === null) throw new Error('gdmUpdate: a gradient is needed at learning rate ≠ 0');
  for (let i = 0; i < n; i++) {
    const gi = clip(g[i]! / bsz, gclip);
    const pi = p[i]!;
    if (v === null) {
      p[i] = -lr * scale * gi + (1 - lr * wdecay) * pi; // μ = 0: no velocity, no param clip
      continue;
    }
    const gp = scale * gi + wdecay * pi;
    v[i] = mu * v[i]! - lr * gp;
    const vi = v[i]!; // the stored value (rounded to float32 in a Float32Array), as neon
    p[i] = clip(pi + (nesterov ? vi * mu - lr * gp : vi), pclip);
  }
}
