// Drawing the autograd graph: drawGraph(root) returns a Graphviz DOT description of the
// graph the tape recorded for `root` (`dot -Tsvg` turns it into a picture). Each node is a
// tensor: the op that made it (or "leaf"/"constant"), its shape and, for a one-element root,
// the norm of ∂root/∂node. The gradients are computed here, by the same walk backward()
// makes (the op's recorded backward closures, in reverse topological order), but kept for
// every node instead of the leaves only, and without touching any `.grad`.
import type { Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/shape.js';
import { noGrad } from './graph.js';
import { add } from './ops/elementwise.js';
import { ones } from './ops/create.js';

/** Options of {@link drawGraph}. */
export interface DrawGraphOptions {
  /** Names for some tensors (leaves such as weights and inputs): shown in their nodes. */
  names?: Record<string, Tensor>;
  /** Show ‖∂root/∂node‖ in each node (default: true when root has one element and requires grad). */
  gradients?: boolean;
}

/** The tensors of root's graph, each after everything computed from it (root first). */
function reverseTopological(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const inputs = top[0].gradFn?.inputs ?? [];
    if (top[1] < inputs.length) {
      const child = inputs[top[1]++]!;
      if (!seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(stack.pop()![0]);
    }
  }
  return order.reverse();
}

/** ∂root/∂t for every tensor t of the graph that requires a gradient. */
function allGradients(root: Tensor, order: Tensor[]): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>([[root, ones(root.shape, { dtype: root.dtype, backend: root.backend })]]);
  noGrad(() => {
    for (const t of order) {
      const g = grads.get(t);
      if (!g || !t.gradFn) continue;
      const inputGrads = t.gradFn.backward(g);
      t.gradFn.inputs.forEach((input, j) => {
        const gi = inputGrads[j];
        if (!gi || !input.requiresGrad) return;
        const acc = grads.get(input);
        grads.set(input, acc ? add(acc, gi) : gi);
      });
    }
  });
  return grads;
}

function norm(t: Tensor): number {
  let s = 0;
  for (const v of t.toHost()) s += v * v;
  return Math.sqrt(s);
}

/** The graph recorded for `root` as Graphviz DOT: one node per tensor (op, shape, gradient norm), an edge from each input to the op's output. */
export function drawGraph(root: Tensor, opts: DrawGraphOptions = {}): string {
  const order = reverseTopological(root);
  const withGrads = opts.gradients ?? (root.requiresGrad && root.size === 1);
  const grads = withGrads ? allGradients(root, order) : new Map<Tensor, Tensor>();
  const names = new Map<Tensor, string>(Object.entries(opts.names ?? {}).map(([n, t]) => [t, n]));
  const id = new Map<Tensor, string>(order.map((t, i) => [t, `t${i}`]));
  const lines = ['digraph autograd {', '  rankdir=BT;', '  node [shape=box, fontname="monospace"];'];
  for (const t of order) {
    const what = t.gradFn ? t.gradFn.op : t.requiresGrad ? 'leaf' : 'constant';
    const label = [names.has(t) ? `${names.get(t)}: ${what}` : what, shapeStr(t.shape)];
    const g = grads.get(t);
    if (g) label.push(`|grad| = ${norm(g).toPrecision(4)}`);
    const shape = t.gradFn ? '' : `, shape=${t.requiresGrad ? 'ellipse' : 'plaintext'}`;
    lines.push(`  ${id.get(t)} [label="${label.join('\\n')}"${shape}];`);
  }
  for (const t of order) for (const input of t.gradFn?.inputs ?? []) lines.push(`  ${id.get(input)} -> ${id.get(t)};`);
  lines.push('}');
  return lines.join('\n');
}
