// Exercise nesterov: a reference solution.

export interface Hyper {
  lr: number;
  mu: number;
  wdecay: number;
  bsz: number;
}

/**
 * neon's Nesterov momentum (neon/optimizers/optimizer.py, GradientDescentMomentum.optimize),
 * per element and step: g' = grad/bsz + wdecay·p; v = μ·v − lr·g'; p = p + μ·v − lr·g'
 * (with the NEW v: a look-ahead of one more momentum step). No clipping here.
 */
export function nesterovReference(p0: readonly number[], grads: readonly (readonly number[])[], h: Hyper): number[] {
  const p = [...p0];
  const v = p0.map(() => 0);
  for (const grad of grads) {
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! / h.bsz + h.wdecay * p[i]!;
      v[i] = h.mu * v[i]! - h.lr * g;
      p[i] = p[i]! + h.mu * v[i]! - h.lr * g;
    }
  }
  return p;
}
