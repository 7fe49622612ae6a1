// drawGraphSvg (src/autograd/draw-svg.ts): on random op graphs, every tensor of the tape
// has its box and every (input, op, argument) its edge, inputs lie below the ops that read
// them, boxes do not overlap, and the gradient norms drawn for the leaves are those
// backward() leaves in their .grad.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add, matmul, mul, relu, sub, sum, tanh, tensor, type Tensor } from '../../src/index.js';
import { drawGraphSvg } from '../../src/autograd/draw-svg.js';
import { graphOf } from '../../src/autograd/draw.js';

const unary = [tanh, relu, (t: Tensor) => mul(t, 1.5), (t: Tensor) => mul(t, t)] as const;
const binary = [add, sub, mul] as const;

/** A random graph: leaves x, y (requiring grad) and a constant c, then ops on earlier tensors; the root reads them all. */
function randomGraph(rows: number, cols: number, seed: number, steps: { op: number; a: number; b: number }[]) {
  let s = seed;
  const values = () => Array.from({ length: rows * cols }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
  const x = tensor(values(), [rows, cols], { dtype: 'float64' }).requiresGrad_();
  const y = tensor(values(), [rows, cols], { dtype: 'float64' }).requiresGrad_();
  const c = tensor(values(), [rows, cols], { dtype: 'float64' });
  const made: Tensor[] = [x, y, c];
  for (const st of steps) {
    const a = made[st.a % made.length]!, b = made[st.b % made.length]!;
    made.push(st.op < unary.length ? unary[st.op]!(a) : binary[st.op - unary.length]!(a, b));
  }
  const root = sum(made.slice(3).reduce((acc, t) => add(acc, t), add(add(x, y), c)));
  return { root, x, y, c };
}

/** The tape walked independently of the drawing code: every tensor, and every (input, output, argument). */
function tape(root: Tensor): { tensors: Set<Tensor>; edges: [Tensor, Tensor, number][] } {
  const tensors = new Set<Tensor>([root]), edges: [Tensor, Tensor, number][] = [];
  const todo = [root];
  while (todo.length) {
    const t = todo.pop()!;
    (t.gradFn?.inputs ?? []).forEach((input, j) => {
      edges.push([input, t, j]);
      if (!tensors.has(input)) {
        tensors.add(input);
        todo.push(input);
      }
    });
  }
  return { tensors, edges };
}

type Drawn = { id: string; attrs: Record<string, string>; rect: { x: number; y: number; w: number; h: number } };

function parse(svg: string): { nodes: Map<string, Drawn>; edges: string[] } {
  const nodes = new Map<string, Drawn>();
  for (const m of svg.matchAll(/<g class="node" ([^>]*)>\n<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)) {
    const attrs = Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    nodes.set(attrs.id!, { id: attrs.id!, attrs, rect: { x: +m[2]!, y: +m[3]!, w: +m[4]!, h: +m[5]! } });
  }
  const edges = [...svg.matchAll(/<path class="edge" data-from="(\w+)" data-to="(\w+)" data-arg="(\d+)"/g)].map((m) => `${m[1]}->${m[2]}#${m[3]}`);
  return { nodes, edges };
}

const norm = (t: Tensor) => Math.hypot(...t.toHost());

describe('drawGraphSvg', () => {
  it('random graphs (fast-check): every node and edge drawn, inputs below their ops, no overlap, leaf norms = backward()\'s grads', () => {
    const graph = fc.record({
      rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 1, max: 10_000 }),
      steps: fc.array(fc.record({ op: fc.nat({ max: unary.length + binary.length - 1 }), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 8 }),
    });
    fc.assert(fc.property(graph, ({ rows, cols, seed, steps }) => {
      const { root, x, y, c } = randomGraph(rows, cols, seed, steps);
      const svg = drawGraphSvg(root, { names: { x, y, c } });
      const ids = new Map(graphOf(root).map((n) => [n.tensor, n.id]));
      const { tensors, edges } = tape(root);
      const drawn = parse(svg);

      expect(drawn.nodes.size).toBe(tensors.size);
      for (const t of tensors) {
        const d = drawn.nodes.get(ids.get(t)!);
        expect(d, 'a box for every tensor').toBeDefined();
        expect(d!.attrs['data-op']).toBe(t.gradFn?.op ?? (t.requiresGrad ? 'leaf' : 'constant'));
        expect(d!.attrs['data-shape']).toBe(t.shape.join(','));
      }
      const want = edges.map(([i, o, j]) => `${ids.get(i)}->${ids.get(o)}#${j}`).sort();
      expect([...drawn.edges].sort()).toEqual(want);
      for (const [input, op] of edges) {
        const a = drawn.nodes.get(ids.get(input)!)!.rect, b = drawn.nodes.get(ids.get(op)!)!.rect;
        expect(a.y, 'an input is drawn below the op that reads it').toBeGreaterThan(b.y + b.h);
      }
      const boxes = [...drawn.nodes.values()].map((d) => d.rect);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const p = boxes[i]!, q = boxes[j]!;
          const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
          expect(overlap, 'boxes do not overlap').toBe(false);
        }
      }

      root.backward();
      const byName = new Map([...drawn.nodes.values()].map((d) => [d.attrs['data-name'], d]));
      for (const [name, leaf] of [['x', x], ['y', y]] as const) {
        const drawnNorm = Number(byName.get(name)!.attrs['data-grad-norm']);
        expect(Math.abs(drawnNorm - norm(leaf.grad!))).toBeLessThanOrEqual(1e-9 * norm(leaf.grad!));
        expect(svg).toContain(`|grad| = ${norm(leaf.grad!).toPrecision(4)}`);
      }
      expect(byName.get('c')!.attrs['data-grad-norm'], 'a constant receives no gradient').toBeUndefined();
      expect(Number(drawn.nodes.get(ids.get(root)!)!.attrs['data-grad-norm'])).toBe(1);
    }), { numRuns: 40 });
  });

  it('escapes text, draws a title, and leaves .grad alone', () => {
    const a = tensor([[1, 2]]).requiresGrad_(), b = tensor([[3], [4]]).requiresGrad_();
    const svg = drawGraphSvg(sum(relu(matmul(a, b))), { names: { 'a<&>': a, b }, title: 'x < y & "z"' });
    expect(svg).toContain('a&lt;&amp;&gt;: leaf');
    expect(svg).toContain('x &lt; y &amp; &quot;z&quot;');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g\b/g)!.length).toBe(svg.match(/<\/g>/g)!.length);
    expect(a.grad).toBe(null);
  });

  it('without gradients (a root of many values), no norms are drawn', () => {
    const a = tensor([1, 2, 3]).requiresGrad_();
    const svg = drawGraphSvg(tanh(a));
    expect(svg).not.toContain('data-grad-norm');
    expect(svg).toContain('tanh');
  });
});
