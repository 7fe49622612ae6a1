// gpu.js kernel sources for softmax, neon's costs and the momentum-SGD update (see
// ./common.ts for `$name` and `idiv`).
import type { CostName } from '../../../backend.js';
import { SAFELOG_MIN } from '../../../cost-terms.js';
import { withConstants } from './common.js';

// ---- Softmax, costs --------------------------------------------------------------------------------

export function softmaxSource(log: boolean): string {
  return withConstants(`function(x) {
  const t = this.thread.x;
  const row = idiv(t, $cols);
  const base = row * $cols;
  let max = x[base];
  for (let j = 1; j < $cols; j++) { max = Math.max(max, x[base + j]); }
  let sum = 0;
  for (let j = 0; j < $cols; j++) { sum += Math.exp(x[base + j] - max); }
  ${log ? 'return x[t] - max - Math.log(sum);' : 'return Math.exp(x[t] - max) / sum;'}
}`);
}

export function softmaxBackSource(log: boolean): string {
  return withConstants(`function(y, dy) {
  const t = this.thread.x;
  const row = idiv(t, $cols);
  const base = row * $cols;
  let dot = 0;
  for (let j = 0; j < $cols; j++) { dot += dy[base + j]${log ? '' : ' * y[base + j]'}; }
  ${log ? 'return dy[t] - Math.exp(y[t]) * dot;' : 'return y[t] * (dy[t] - dot);'}
}`);
}

// neon's cost terms (src/kernels/cost-terms.ts) in kernel form; safelog(v) = log(max(v, e^−50)).
const MIN = SAFELOG_MIN.toExponential(17);
const COST_F: Record<CostName, string> = {
  CrossEntropyBinary: `-u * Math.log(Math.max(v, ${MIN})) - (1 - u) * Math.log(Math.max(1 - v, ${MIN}))`,
  CrossEntropyMulti: `-u * Math.log(Math.max(v, ${MIN}))`,
  SumSquared: '0.5 * (v - u) * (v - u)',
};
const COST_DF: Record<CostName, string> = {
  CrossEntropyBinary: `-u * (v > ${MIN} ? 1 / v : 0) + (1 - u) * ((1 - v) > ${MIN} ? 1 / (1 - v) : 0)`,
  CrossEntropyMulti: `-u * (v > ${MIN} ? 1 / v : 0)`,
  SumSquared: 'v - u',
};

export function costRowsSource(cost: CostName): string {
  return withConstants(`function(y, tt) {
  const base = this.thread.x * $K;
  let c = 0;
  for (let k = 0; k < $K; k++) {
    const v = y[base + k];
    const u = tt[base + k];
    c += ${COST_F[cost]};
  }
  return c;
}`);
}

export function costGradSource(cost: CostName): string {
  return withConstants(`function(y, tt) { const v = y[this.thread.x]; const u = tt[this.thread.x]; return $scale * (${COST_DF[cost]}); }`);
}

// ---- Optimizer ------------------------------------------------------------------------------------

/**
 * neon's momentum SGD (the order of src/optim/gdm.ts) for one element, in float32: what = 0 gives
 * the new parameter, what = 1 the new velocity. `mode` 0: lr = 0 (no gradient read),
 * 1: μ = 0 (no velocity), 2: the full momentum update.
 */
export function gdmSource(mode: 0 | 1 | 2, nesterov: boolean, gclip: boolean, pclip: boolean): string {
  const clipG = gclip ? 'gi = Math.min(Math.max(gi, -$gclip), $gclip);' : '';
  const clipP = pclip ? 'next = Math.min(Math.max(next, -$pclip), $pclip);' : '';
  if (mode === 1) {
    return withConstants(`function(p, g) {
  let gi = g[this.thread.x] / $bsz;
  ${clipG}
  return -$lr * $scale * gi + (1 - $lr * $wdecay) * p[this.thread.x];
}`);
  }
  const gp = mode === 0 ? '0' : '$scale * gi + $wdecay * pi';
  return withConstants(`function(p, ${mode === 0 ? '' : 'g, '}v) {
  const pi = p[this.thread.x];
  ${mode === 0 ? '' : `let gi = g[this.thread.x] / $bsz;\n  ${clipG}`}
  const gp = ${gp};
  const vi = $mu * v[this.thread.x] - $lr * gp;
  if ($what === 1) { return vi; }
  let next = pi + ${nesterov ? 'vi * $mu - $lr * gp' : 'vi'};
  ${clipP}
  return next;
}`);
}
