// neon's cost terms, defined once: every backend's cost kernels and the layer-level costs
// use these formulas (neon/transforms/cost.py). C_n = Σ_k f(y, t) over an example's
// outputs; safelog(v) = ln(max(v, e^−50)), whose derivative is 1/v above the clamp and 0
// below.
import type { CostName } from './backend.js';

/** neon's floor inside the logarithm of the cross-entropy costs, e^−50. */
export const SAFELOG_MIN = Math.exp(-50);
/** log(max(v, SAFELOG_MIN)), as neon's safelog. */
export const safelog = (v: number): number => Math.log(Math.max(v, SAFELOG_MIN));
const dsafelog = (v: number): number => (v > SAFELOG_MIN ? 1 / v : 0);

/** Per-element cost term f(y, t) and its derivative ∂f/∂y. */
export interface CostTerm {
  /** The term f(y, t). */
  f: (y: number, t: number) => number;
  /** Its derivative ∂f/∂y. */
  df: (y: number, t: number) => number;
}

/** The per-element terms of neon's costs (CrossEntropyBinary, CrossEntropyMulti, SumSquared). */
export const COST_TERMS: Readonly<Record<CostName, CostTerm>> = {
  CrossEntropyBinary: { f: (v, u) => -u * safelog(v) - (1 - u) * safelog(1 - v), df: (v, u) => -u * dsafelog(v) + (1 - u) * dsafelog(1 - v) },
  CrossEntropyMulti: { f: (v, u) => -u * safelog(v), df: (v, u) => -u * dsafelog(v) },
  SumSquared: { f: (v, u) => 0.5 * (v - u) * (v - u), df: (v, u) => v - u },
};
