// Reverse-mode automatic differentiation over a dynamic graph. Each op that runs while
// grad mode is on and has an input that requires grad records a GradFn on its output: its
// inputs and a closure that maps the output's gradient to the inputs' gradients (the
// chain rule for that op). backward() visits the graph in reverse topological order,
// summing gradients for tensors used more than once, and stores the totals in `.grad`
// of the leaves.
import type { FloatArray } from '../kernels/backend.js';
import { ShapeError } from '../util/errors.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** The record of one op in the autograd graph: its inputs and how to send a gradient back to them. */
export interface GradFn {
  /** The op's name, for error messages and graph printing. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients for each input (null where the input needs none), given the output's gradient. */
  readonly backward: (gradOutput: Tensor) => (Tensor | null)[];
}

let gradEnabled = true;

/** True unless inside {@link noGrad}: whether ops record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording a graph (inference, optimizer updates, backward itself). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attach the graph node to `out` if any input requires grad. Ops call this right after
 * computing their forward value, with the backward closure beside it.
 */
export function record(op: string, inputs: readonly Tensor[], out: Tensor, backward: GradFn['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward };
  }
  return out;
}

// Set by ops/index to avoid an import cycle at module load: makes the seed gradient.
let makeSeed: ((like: Tensor, values?: FloatArray | number[] | Tensor) => Tensor) | null = null;
let addInto: ((a: Tensor, b: Tensor | number) => Tensor) | null = null;
export function setGraphHelpers(seed: typeof makeSeed, add: typeof addInto): void {
  makeSeed = seed;
  addInto = add;
}

/** Reverse-mode differentiation from `root`: accumulates ∂root/∂t into `t.grad` of every tensor that requires a gradient (outputGrad defaults to 1 for a scalar root). */
export function backward(root: Tensor, outputGrad?: Tensor | FloatArray | number[]): void {
  if (!root.requiresGrad) {
    throw new Error('backward(): this tensor does not require grad (no input had requiresGrad, or it was computed under noGrad)');
  }
  if (outputGrad === undefined && root.size !== 1) {
    throw new ShapeError(`backward(): output has shape ${shapeStr(root.shape)}; pass a gradient of that shape (only one-element outputs default to 1)`);
  }
  const seed = makeSeed!(root, outputGrad);
  if (!sameShape(seed.shape, root.shape)) {
    throw new ShapeError(`backward(): gradient of shape ${shapeStr(seed.shape)} given for an output of shape ${shapeStr(root.shape)}`);
  }
  walk(root, seed);
}

/** The graph walk behind {@link backward}: given root and ∂root/∂root (the seed, root's shape), accumulates into the leaves' `.grad`. */
export type GraphWalk = (root: Tensor, seed: Tensor) => void;

// The seam of the exercise track's first task (exercises/backward): the learner's walk
// replaces the engine's, so Tensor.backward(), gradcheck and everything else that
// back-propagates runs theirs.
let walk: GraphWalk = accumulateGradients;

/** Replace the graph walk that backward() runs (null restores the engine's); returns the one it replaces. */
export function setGraphWalk(fn: GraphWalk | null): GraphWalk {
  const prev = walk;
  walk = fn ?? accumulateGradients;
  return prev;
}

/** The engine's graph walk: reverse topological order, gradients summed per tensor, totals into the leaves' `.grad`. */
function accumulateGradients(root: Tensor, seed: Tensor): void {
  // Topological order by iterative depth-first search (deep nets would overflow recursion).
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn ? t.gradFn.inputs : [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i]!;
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t); // free intermediate gradients as soon as they are consumed
      if (!t.gradFn) {
        // The first gradient may alias another tensor's storage (add's backward passes g
        // through): the leaf gets its own contiguous copy, later ones are summed into new storage.
        t.grad = t.grad ? addInto!(t.grad, g) : addInto!(g, 0);
        continue;
      }
      const inputGrads = t.gradFn.backward(g);
      t.gradFn.inputs.forEach((input, j) => {
        const gi = inputGrads[j];
        if (!gi || !input.requiresGrad) return;
        if (!sameShape(gi.shape, input.shape)) {
          throw new ShapeError(`backward of ${t.gradFn!.op}: gradient ${shapeStr(gi.shape)} for input ${j} of shape ${shapeStr(input.shape)}`);
        }
        const acc = grads.get(input);
        grads.set(input, acc ? addInto!(acc, gi) : gi);
      });
    }
  } finally {
    gradEnabled = prev;
  }
}
