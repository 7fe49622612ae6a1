// Exercise nesterov: your work. See README.md; run `npm run exercise nesterov`.

export interface Hyper {
  lr: number;
  /** Momentum coefficient μ (> 0 here). */
  mu: number;
  wdecay: number;
  /** Batch size: the gradients given are sums over the batch. */
  bsz: number;
}

/**
 * Plain-number reference of neon's GradientDescentMomentum with nesterov = true: start from
 * params p0 and zero velocity, apply one step per entry of `grads` (each the summed gradient
 * of that minibatch), and return the final parameters.
 */
export function nesterovReference(p0: readonly number[], grads: readonly (readonly number[])[], h: Hyper): number[] {
  // TODO: this is plain momentum. Write neon's Nesterov update instead.
  const p = [...p0];
  const v = p0.map(() => 0);
  for (const grad of grads) {
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! / h.bsz + h.wdecay * p[i]!;
      v[i] = h.mu * v[i]! - h.lr * g;
      p[i] = p[i]! + v[i]!;
    }
  }
  return p;
}
