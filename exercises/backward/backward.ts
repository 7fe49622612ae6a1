// Track task 1, backward: your work. See README.md; run `npm run exercise backward`.
// The tests swap this function in for the engine's graph walk (setGraphWalk in
// src/autograd/graph.ts): every tensor.backward() and gradcheck of a test then runs it.
import { add, noGrad, type Tensor } from '../../src/index.js';

/**
 * Reverse-mode differentiation from `root`, given `seed` = ∂root/∂root (a tensor of root's
 * shape: ones for a one-element root, or the gradient passed to root.backward(g)): for every
 * tensor t of root's graph that requires a gradient and has no gradFn (a leaf), add ∂root/∂t
 * to t.grad (set it when t.grad is null). A tensor made by an op has
 * t.gradFn = { op, inputs, backward }, where backward(gradOutput) returns one gradient per
 * input (null where none).
 */
export function backward(root: Tensor, seed: Tensor): void {
  noGrad(() => {
    // TODO:
    // 1. a topological order of the graph: every tensor after all the tensors computed from it
    //    (a depth-first search over t.gradFn.inputs, from root, each tensor visited once);
    // 2. walk it from root, with a Map<Tensor, Tensor> of gradients (root starts with seed): call
    //    each gradFn's backward once with the *sum* of the gradients its output received, and
    //    add each input's gradient into the map (add(a, b));
    // 3. at a leaf that requires grad, put the gradient into (or add it to) leaf.grad.
    throw new Error(`TODO: backward from a tensor of shape [${root.shape.join(', ')}] made by ${root.gradFn?.op ?? 'no op'} (seed of ${seed.size} value(s); add is ${typeof add})`);
  });
}
