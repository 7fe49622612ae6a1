// drawGraph (src/autograd/draw.ts): the DOT text names each node's op and shape, and the
// gradient norms it shows are those backward() leaves in the leaves' .grad.
import { describe, expect, it } from 'vitest';
import { matmul, relu, sum, tensor } from '../../src/index.js';
import { drawGraph } from '../../src/autograd/draw.js';

describe('drawGraph', () => {
  it('draws ops, shapes, edges and gradient norms, and leaves .grad alone', () => {
    const x = tensor([[1, -2], [3, 4]]), w = tensor([[0.5], [-1]]).requiresGrad_();
    const loss = sum(relu(matmul(x, w)));
    const dot = drawGraph(loss, { names: { x, w } });
    expect(w.grad).toBe(null);
    loss.backward();
    const wNorm = Math.hypot(...w.grad!.toHost());
    expect(dot).toContain(`w: leaf\\n[2, 1]\\n|grad| = ${wNorm.toPrecision(4)}`);
    expect(dot).toContain('x: constant\\n[2, 2]"');
    for (const op of ['sum\\n[]', 'relu\\n[2, 1]', 'matmul\\n[2, 1]']) expect(dot).toContain(op);
    expect(dot.match(/->/g)!.length).toBe(4); // x, w → matmul → relu → sum
    expect(dot.startsWith('digraph autograd {') && dot.endsWith('}')).toBe(true);
  });
});
