// Track task 1, backward: a reference solution (as src/autograd/graph.ts, recursive for brevity).
import { add, noGrad, type Tensor } from '../../../src/index.js';

export function backward(root: Tensor, seed: Tensor): void {
  noGrad(() => {
    // topological order: a tensor is pushed after everything it was computed from
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    const visit = (t: Tensor): void => {
      if (seen.has(t) || !t.requiresGrad) return;
      seen.add(t);
      for (const input of t.gradFn?.inputs ?? []) visit(input);
      order.push(t);
    };
    visit(root);
    // reversed: each tensor comes before its inputs, after everything computed from it
    const grads = new Map<Tensor, Tensor>([[root, seed]]);
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      if (!t.gradFn) {
        t.grad = t.grad ? add(t.grad, g) : add(g, 0); // add(g, 0): a copy of its own
        continue;
      }
      const inputGrads = t.gradFn.backward(g);
      t.gradFn.inputs.forEach((input, j) => {
        const gi = inputGrads[j];
        if (!gi || !input.requiresGrad) return;
        const acc = grads.get(input);
        grads.set(input, acc ? add(acc, gi) : gi);
      });
    }
  });
}
