// Softmax and log-softmax per row, stable: exp(x − max) never overflows, and
// log-softmax = (x − max) − log Σ exp(x − max) never takes log of 0.
// Backward from the output, with y = softmax(x):   dx = y ⊙ (dy − Σ_row dy ⊙ y)
//                 with l = logSoftmax(x):      dx = dy − e^l ⊙ Σ_row dy
import type { FloatArray } from '../../backend.js';

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

export function softmaxBackward(y: FloatArray, dy: FloatArray, rows: number, cols: number, log: boolean, dx: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    if (log) {
      for (let j = 0; j < cols; j++) dot += dy[base + j]!;
      for (let j = 0; j < cols; j++) dx[base + j] = dy[base + j]! - Math.exp(y[base + j]!) * dot;
    } else {
      for (let j = 0; j < cols; j++) dot += dy[base + j]! * y[base + j]!;
      for (let j = 0; j < cols; j++) dx[base + j] = y[base + j]! * (dy[base + j]! - dot);
    }
  }
}
