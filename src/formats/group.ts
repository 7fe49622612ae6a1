// Grouping of flat, dotted parameter names ('features.0.weight') into layers, shared by
// the PyTorch and safetensors readers. PyTorch's layouts are already ours: conv weights
// [K, C, R, S], linear (out, in), bias [K].

import type { SourceLayer, WeightArray } from './types.js';

export interface FlatTensor {
  key: string;
  shape: number[];
  dtype: string;
  load(): Float32Array;
}

/** 'weight' -> 'W', 'bias' -> 'b', anything else keeps its name. */
function paramName(suffix: string): string {
  return suffix === 'weight' ? 'W' : suffix === 'bias' ? 'b' : suffix;
}

/**
 * Group tensors by the prefix before their last dot, in first-appearance order. A group
 * whose 'weight' is 4-D is a conv layer, 2-D a linear layer; anything else is 'other'.
 */
export function groupDotted(tensors: readonly FlatTensor[]): SourceLayer[] {
  const groups = new Map<string, FlatTensor[]>();
  for (const t of tensors) {
    const dot = t.key.lastIndexOf('.');
    const prefix = dot < 0 ? t.key : t.key.slice(0, dot);
    let g = groups.get(prefix);
    if (!g) groups.set(prefix, (g = []));
    g.push(t);
  }
  const layers: SourceLayer[] = [];
  for (const [name, ts] of groups) {
    const suffix = (t: FlatTensor): string => (t.key.includes('.') ? t.key.slice(t.key.lastIndexOf('.') + 1) : t.key);
    const weight = ts.find((t) => suffix(t) === 'weight');
    const rank = weight?.shape.length;
    const kind: SourceLayer['kind'] = rank === 4 ? 'conv' : rank === 2 ? 'linear' : 'other';
    const params: WeightArray[] = ts.map((t) => ({
      name: kind === 'other' && !t.key.includes('.') ? t.key : paramName(suffix(t)),
      shape: [...t.shape],
      dtype: t.dtype,
      data: t.load(),
    }));
    // W first, then b, then the rest, as the other readers return them.
    const order = (p: WeightArray): number => (p.name === 'W' ? 0 : p.name === 'b' ? 1 : 2);
    params.sort((a, b) => order(a) - order(b));
    layers.push({ name, kind, params });
  }
  return layers;
}
