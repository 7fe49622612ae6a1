// neon's costs per example and their elementwise gradients, from the one definition of
// the cost terms (../cost-terms.ts).
import type { CostName, FloatArray } from '../../backend.js';
import { COST_TERMS } from '../../cost-terms.js';

/** out[r] = Σ_k f(y[r, k], t[r, k]), accumulated in float64. */
export function costRows(cost: CostName, y: FloatArray, t: FloatArray, rows: number, K: number, out: FloatArray): void {
  const f = COST_TERMS[cost].f;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let k = r * K; k < (r + 1) * K; k++) c += f(y[k]!, t[k]!);
    out[r] = c;
  }
}

/** dy = scale · f'(y, t). */
export function costGrad(cost: CostName, y: FloatArray, t: FloatArray, n: number, scale: number, dy: FloatArray): void {
  const df = COST_TERMS[cost].df;
  for (let i = 0; i < n; i++) dy[i] = scale * df(y[i]!, t[i]!);
}
