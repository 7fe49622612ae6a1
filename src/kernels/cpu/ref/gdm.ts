// neon's GradientDescentMomentum update as one fused kernel over a parameter, its summed
// gradient and its velocity (neon/optimizers/optimizer.py, GradientDescentMomentum.optimize;
// the order of operations is explained in src/optim/gdm.ts). Every element is computed in
// float64 from the stored values; the velocity is rounded to the storage's dtype when
// stored and that stored value is used for the parameter update (neon's float32 dataflow).
// Where the update adds exactly zero the stored value is kept, so a −0 stays −0.
import type { FloatArray, GdmStep } from '../../backend.js';

export function gdmUpdate(p: FloatArray, g: FloatArray | null, v: FloatArray | null, n: number, s: GdmStep): void {
  const { lr, scale, bsz, mu, wdecay: wd, nesterov, gclip, pclip } = s;
  if (lr === 0) {
    // No gradient is read: −0·g' is zero for any finite gradient.
    if (v === null) return; // μ = 0: param = param (the clip is not written back, as neon)
    // A frozen layer that never moved has v = 0: the whole update is a no-op.
    if (pclip === null && isAllZero(v, n)) return;
    for (let i = 0; i < n; i++) {
      const pi = p[i]!;
      v[i] = mu * v[i]!;
      const vi = v[i]!;
      let next = pi + (nesterov ? vi * mu : vi);
      if (pclip !== null) next = next < -pclip ? -pclip : next > pclip ? pclip : next;
      if (next !== pi) p[i] = next;
    }
    return;
  }
  if (g === null) throw new Error('gdmUpdate: a gradient is needed at learning rate ≠ 0');
  if (v === null) {
    // μ = 0 (neon l.519-523): param = −lr·scale·g + (1 − lr·wdecay)·param; the param clip is computed but not written back.
    for (let i = 0; i < n; i++) {
      let gi = g[i]! / bsz;
      if (gclip !== null) gi = gi < -gclip ? -gclip : gi > gclip ? gclip : gi;
      const pi = p[i]!;
      const next = -lr * scale * gi + (1 - lr * wd) * pi;
      if (next !== pi) p[i] = next;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let gi = g[i]! / bsz;
    if (gclip !== null) gi = gi < -gclip ? -gclip : gi > gclip ? gclip : gi;
    const pi = p[i]!;
    const gp = scale * gi + wd * pi;
    v[i] = mu * v[i]! - lr * gp;
    const vi = v[i]!; // the stored (rounded) velocity
    let next = pi + (nesterov ? vi * mu - lr * gp : vi);
    if (pclip !== null) next = next < -pclip ? -pclip : next > pclip ? pclip : next;
    if (next !== pi) p[i] = next;
  }
}

function isAllZero(a: FloatArray, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== 0) return false;
  return true;
}
