// Drawing the autograd graph: graphOf(root) lists the graph the tape recorded for `root`,
// one node per tensor: the op that made it (or "leaf"/"constant"), its shape, its inputs and,
// for a one-element root, the norm of ∂root/∂node. drawGraph renders it as Graphviz DOT
// (`dot -Tsvg` turns it into a picture); drawGraphSvg (draw-svg.ts) lays it out and draws
// the SVG itself. The gradients are computed here, by the same walk backward()
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

/** One tensor of a drawn graph. */
export interface GraphNode {
  /** `t0` (the root), `t1`, ...: unique within the graph. */
  id: string;
  tensor: Tensor;
  /** The op that made it, or `leaf` (requires a gradient) or `constant`. */
  what: string;
  /** Its name from {@link DrawGraphOptions.names}, if given. */
  name?: string;
  shape: readonly number[];
  /** ‖∂root/∂node‖₂, when gradients are drawn and the node receives one. */
  gradNorm?: number;
  /** The ids of the op's inputs, in argument order (a tensor used twice appears twice). */
  inputs: string[];
}

/** The graph recorded for `root`: one node per tensor, root first, each before its inputs. */
export function graphOf(root: Tensor, opts: DrawGraphOptions = {}): GraphNode[] {
  const order = reverseTopological(root);
  const withGrads = opts.gradients ?? (root.requiresGrad && root.size === 1);
  const grads = withGrads ? allGradients(root, order) : new Map<Tensor, Tensor>();
  const names = new Map<Tensor, string>(Object.entries(opts.names ?? {}).map(([n, t]) => [t, n]));
  const id = new Map<Tensor, string>(order.map((t, i) => [t, `t${i}`]));
  return order.map((t) => {
    const g = grads.get(t);
    return {
      id: id.get(t)!, tensor: t, what: t.gradFn ? t.gradFn.op : t.requiresGrad ? 'leaf' : 'constant',
      ...(names.has(t) ? { name: names.get(t)! } : {}), shape: t.shape,
      ...(g ? { gradNorm: norm(g) } : {}), inputs: (t.gradFn?.inputs ?? []).map((i) => id.get(i)!),
    };
  });
}

/** A node's text, line by line: `name: op`, the shape, the gradient norm. */
export function nodeLabel(n: GraphNode): string[] {
  const label = [n.name !== undefined ? `${n.name}: ${n.what}` : n.what, shapeStr(n.shape)];
  if (n.gradNorm !== undefined) label.push(`|grad| = ${n.gradNorm.toPrecision(4)}`);
  return label;
}

/** The graph recorded for `root` as Graphviz DOT: one node per tensor (op, shape, gradient norm), an edge from each input to the op's output. */
export function drawGraph(root: Tensor, opts: DrawGraphOptions = {}): string {
  const nodes = graphOf(root, opts);
  const lines = ['digraph autograd {', '  rankdir=BT;', '  node [shape=box, fontname="monospace"];'];
  for (const n of nodes) {
    const shape = n.tensor.gradFn ? '' : `, shape=${n.what === 'leaf' ? 'ellipse' : 'plaintext'}`;
    lines.push(`  ${n.id} [label="${nodeLabel(n).join('\\n')}"${shape}];`);
  }
  for (const n of nodes) for (const input of n.inputs) lines.push(`  ${input} -> ${n.id};`);
  lines.push('}');
  return lines.join('\n');
}
