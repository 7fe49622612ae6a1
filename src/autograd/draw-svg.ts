// The autograd graph as an SVG picture, laid out here without Graphviz: each tensor sits in
// the layer of its topological depth (an op's output one layer above its deepest input, the
// root on top; a leaf or constant one layer below the lowest op that reads it), boxes within
// a layer ordered to follow their inputs (one pass upward: an op under the mean position of
// its inputs; one pass downward: a leaf under the mean of its readers), and an edge
// from each input's box to the slot of its argument on the op's box (a tensor used twice
// gets two edges, side by side). Each box shows the node's op, shape and ‖∂root/∂node‖
// (graphOf in draw.ts computes them). Text is measured for a monospace font of FONT px.
import type { Tensor } from '../tensor/tensor.js';
import { graphOf, nodeLabel, type DrawGraphOptions, type GraphNode } from './draw.js';

/** Options of {@link drawGraphSvg}: those of drawGraph, and a title drawn above the graph. */
export interface DrawGraphSvgOptions extends DrawGraphOptions {
  title?: string;
}

const FONT = 12;
const CHAR_W = 0.6 * FONT; // advance of a monospace glyph
const LINE_H = 15;
const PAD_X = 8;
const PAD_Y = 6;
const GAP_X = 24;
const GAP_Y = 40;
const MARGIN = 12;

interface Box {
  node: GraphNode;
  lines: string[];
  depth: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (v: number): string => String(Math.round(v * 10) / 10);

/** Boxes in layers by topological depth, each layer ordered by its inputs' mean position. */
function layout(nodes: GraphNode[], minWidth: number): { layers: Box[][]; width: number; height: number } {
  const byId = new Map<string, Box>();
  // graphOf lists each node before its inputs: read backwards, inputs come first
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const lines = nodeLabel(node);
    const depth = node.inputs.length ? 1 + Math.max(...node.inputs.map((i) => byId.get(i)!.depth)) : 0;
    const w = Math.max(...lines.map((l) => l.length)) * CHAR_W + 2 * PAD_X;
    byId.set(node.id, { node, lines, depth, x: 0, y: 0, w, h: lines.length * LINE_H + 2 * PAD_Y });
  }
  const boxes = [...byId.values()];
  // a leaf or constant sits just below the lowest op that reads it, not at the very bottom
  const readers = new Map<string, Box[]>();
  for (const b of boxes) for (const i of b.node.inputs) readers.set(i, [...(readers.get(i) ?? []), b]);
  for (const b of boxes) if (!b.node.inputs.length && readers.has(b.node.id)) b.depth = Math.min(...readers.get(b.node.id)!.map((r) => r.depth)) - 1;
  const layers: Box[][] = [];
  for (const b of boxes) (layers[b.depth] ??= []).push(b);
  for (let d = 0; d < layers.length; d++) layers[d] ??= [];
  const width = Math.max(minWidth, ...layers.map((l) => l.reduce((s, b) => s + b.w, 0) + GAP_X * (l.length - 1)));
  const place = (layer: Box[]) => {
    let x = (width - (layer.reduce((s, b) => s + b.w, 0) + GAP_X * (layer.length - 1))) / 2;
    for (const b of layer) {
      b.x = x;
      x += b.w + GAP_X;
    }
  };
  const centre = (b: Box) => b.x + b.w / 2;
  const mean = (bs: Box[], own: Box) => (bs.length ? bs.reduce((s, r) => s + centre(r), 0) / bs.length : centre(own));
  // upward: an op under the mean of its inputs; then downward: a leaf under the mean of its readers
  layers.forEach(place);
  for (let d = 1; d < layers.length; d++) {
    layers[d]!.sort((a, b) => mean(a.node.inputs.map((i) => byId.get(i)!), a) - mean(b.node.inputs.map((i) => byId.get(i)!), b));
    place(layers[d]!);
  }
  for (let d = layers.length - 2; d >= 0; d--) {
    const key = (b: Box) => (b.node.inputs.length ? centre(b) : mean(readers.get(b.node.id) ?? [], b));
    layers[d]!.sort((a, b) => key(a) - key(b));
    place(layers[d]!);
  }
  // the root's layer on top: y grows downward, depth upward
  let y = MARGIN;
  for (let d = layers.length - 1; d >= 0; d--) {
    const h = Math.max(0, ...layers[d]!.map((b) => b.h));
    for (const b of layers[d]!) b.y = y + (h - b.h) / 2;
    y += h + GAP_Y;
  }
  for (const b of boxes) b.x += MARGIN;
  return { layers, width: width + 2 * MARGIN, height: y - GAP_Y + MARGIN };
}

/**
 * The graph recorded for `root` as a standalone SVG document: a box per tensor (op, shape,
 * gradient norm), an arrow from each input to the op that read it. Node groups carry
 * `data-op`, `data-shape` and `data-grad-norm`, edges `data-from`/`data-to`, for tools and tests.
 */
export function drawGraphSvg(root: Tensor, opts: DrawGraphSvgOptions = {}): string {
  const nodes = graphOf(root, opts);
  const { layers, width, height } = layout(nodes, opts.title ? opts.title.length * CHAR_W : 0);
  const top = opts.title ? LINE_H + 8 : 0;
  const boxes = new Map<string, Box>(layers.flat().map((b) => [b.node.id, b]));
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height + top)}" viewBox="0 0 ${px(width)} ${px(height + top)}" font-family="monospace" font-size="${FONT}">`,
    '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>',
    `<rect width="100%" height="100%" fill="#fff"/>`,
  ];
  if (opts.title) out.push(`<text x="${MARGIN}" y="${MARGIN + FONT}" font-weight="bold">${escape(opts.title)}</text>`);
  out.push(`<g transform="translate(0, ${top})">`);
  for (const b of boxes.values()) {
    b.node.inputs.forEach((inputId, j) => {
      const from = boxes.get(inputId)!;
      const x1 = from.x + from.w / 2, y1 = from.y;
      const x2 = b.x + (b.w * (j + 1)) / (b.node.inputs.length + 1), y2 = b.y + b.h;
      const mid = (y1 + y2) / 2;
      out.push(`<path class="edge" data-from="${inputId}" data-to="${b.node.id}" data-arg="${j}" d="M${px(x1)},${px(y1)} C${px(x1)},${px(mid)} ${px(x2)},${px(mid)} ${px(x2)},${px(y2)}" fill="none" stroke="#555" marker-end="url(#arrow)"/>`);
    });
  }
  for (const b of boxes.values()) {
    const n = b.node;
    const leaf = !n.tensor.gradFn;
    const fill = !leaf ? '#e8f0fe' : n.what === 'leaf' ? '#fdebd0' : '#f2f2f2';
    const attrs = [`class="node"`, `id="${n.id}"`, `data-op="${escape(n.what)}"`, `data-shape="${n.shape.join(',')}"`];
    if (n.name !== undefined) attrs.push(`data-name="${escape(n.name)}"`);
    if (n.gradNorm !== undefined) attrs.push(`data-grad-norm="${n.gradNorm.toPrecision(10)}"`); // 10 digits: the same file from run to run
    out.push(`<g ${attrs.join(' ')}>`);
    out.push(`<rect x="${px(b.x)}" y="${px(b.y)}" width="${px(b.w)}" height="${px(b.h)}" rx="${leaf ? 10 : 2}" fill="${fill}" stroke="#333"${n.what === 'constant' ? ' stroke-dasharray="4 3"' : ''}/>`);
    b.lines.forEach((line, i) => {
      out.push(`<text x="${px(b.x + b.w / 2)}" y="${px(b.y + PAD_Y + (i + 1) * LINE_H - 3)}" text-anchor="middle">${escape(line)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}
