// Per-channel bias over [N, C, HW] (HW = 1 for a dense layer's [N, C] output) and its
// gradient, the sum of dy over the batch and all positions.
import type { FloatArray } from '../../backend.js';

export function biasAdd(x: FloatArray, b: FloatArray, N: number, C: number, HW: number, y: FloatArray): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * HW;
      const bc = b[c]!;
      for (let i = 0; i < HW; i++) y[base + i] = x[base + i]! + bc;
    }
  }
}

export function biasBackward(dy: FloatArray, N: number, C: number, HW: number, db: FloatArray, accumulate: boolean): void {
  if (!accumulate) db.fill(0, 0, C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * HW;
      let s = 0;
      for (let i = 0; i < HW; i++) s += dy[base + i]!;
      db[c]! += s;
    }
  }
}
