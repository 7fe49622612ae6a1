// Softmax and log-softmax per row, stable: exp(x − max) never overflows, and
// log-softmax = (x − max) − log Σ exp(x − max) never takes log of 0.
import type { FloatArray } from '../backend.js';

export function softmax(x: FloatArray, rows: number, cols: number, log: boolean, y: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[base + j]! > max) max = x[base + j]!;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[base + j]! - max);
    if (log) {
      const lse = Math.log(sum);
      for (let j = 0; j < cols; j++) y[base + j] = x[base + j]! - max - lse;
    } else {
      for (let j = 0; j < cols; j++) y[base + j] = Math.exp(x[base + j]! - max) / sum;
    }
  }
}
