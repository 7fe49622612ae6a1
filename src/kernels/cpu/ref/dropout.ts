// Dropout masks: 1 (or the inverted-dropout scale) with probability keep, drawn from the
// engine's generator in element order, so a seed gives the same mask on every backend.
import type { FloatArray } from '../../backend.js';

export function dropoutMask(mask: FloatArray, n: number, keep: number, scale: number, random: () => number): void {
  for (let i = 0; i < n; i++) mask[i] = random() < keep ? scale : 0;
}
