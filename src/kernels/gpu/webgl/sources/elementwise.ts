// gpu.js kernel sources for elementwise maps and reductions: unary ops and their
// derivatives, binary ops over index tables (strided, broadcast views), the strided copy,
// sum/max reductions and the scatter-add of their backward (see ./common.ts for `$name`).
import type { BinaryOp, UnaryOp } from '../../../backend.js';
import { withConstants } from './common.js';

// ---- Elementwise -------------------------------------------------------------------------------

/** max(0, v) with NaN passing through (both comparisons are false for NaN); the gemm's epilogue uses it too. */
export const RELU_OF_V = '(v > 0 ? v : (v <= 0 ? 0 : v))';

const UNARY: Record<UnaryOp, string> = {
  neg: '-v',
  exp: 'Math.exp(v)',
  log: 'Math.log(v)',
  sqrt: 'Math.sqrt(v)',
  abs: 'Math.abs(v)',
  // NaN propagates: both comparisons are false for NaN.
  relu: RELU_OF_V,
  logistic: '(v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)))',
  tanh: 'Math.tanh(v)',
};

export function unarySource(op: UnaryOp): string {
  return `function(x) { const v = x[this.thread.x]; return ${UNARY[op]}; }`;
}

/** dx from dy and u (the input x or the output y, as UNARY_BACKWARD_READS says). */
const UNARY_BACK: Record<UnaryOp, string> = {
  neg: '-g',
  exp: 'g * u',
  log: 'g / u',
  sqrt: 'g / (2 * u)',
  abs: '(u > 0 ? g : (u < 0 ? -g : 0))',
  relu: '(u > 0 ? g : 0)',
  logistic: 'g * u * (1 - u)',
  tanh: 'g * (1 - u * u)',
};

export function unaryBackSource(op: UnaryOp): string {
  return op === 'neg'
    ? 'function(dy) { const g = dy[this.thread.x]; return -g; }'
    : `function(u0, dy) { const u = u0[this.thread.x]; const g = dy[this.thread.x]; return ${UNARY_BACK[op]}; }`;
}

const BINARY: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  max: '((a >= b || a !== a) ? a : b)',
  min: '((a <= b || a !== a) ? a : b)',
  ge: '((a >= b || a !== a) ? 1 : 0)',
};

/** out[t] = a[ai[t]] ∘ b[bi[t]] over index tables (strided, broadcast views). */
export function binarySource(op: BinaryOp): string {
  // No nested lookups (x[ai[t]]): gpu.js's GLSL hoists each into a variable, and two of them in one kernel collide ('hoisted_0_kernel' : redefinition).
  return `function(x, ai, y, bi) { const i = ai[this.thread.x]; const j = bi[this.thread.x]; const a = x[i]; const b = y[j]; return ${BINARY[op]}; }`;
}

export function binaryScalarSource(op: BinaryOp, reverse: boolean): string {
  return withConstants(`function(x) { const ${reverse ? 'b' : 'a'} = x[this.thread.x]; const ${reverse ? 'a' : 'b'} = $scalar; return ${BINARY[op]}; }`);
}

/** out[t] = the source element inv[t] names, or old[t] where inv[t] < 0 (strided copy). */
export const SCATTER_COPY = `function(old, x, inv) { const o = inv[this.thread.x]; if (o < 0) { return old[this.thread.x]; } return x[o]; }`;

// ---- Reductions ---------------------------------------------------------------------------------

/** out[o] = Σ or max over r of x[base[o] + roff[r]]; what = 1 gives the flat index of the first max. */
export function reduceSource(op: 'sum' | 'max'): string {
  if (op === 'sum') {
    return withConstants(`function(x, base, roff) {
  const b = base[this.thread.x];
  let s = 0;
  for (let r = 0; r < $R; r++) { const o = b + roff[r]; s += x[o]; }
  return s;
}`);
  }
  return withConstants(`function(x, base, roff) {
  const b = base[this.thread.x];
  let best = 0;
  let arg = -1;
  for (let r = 0; r < $R; r++) {
    const o = b + roff[r];
    const v = x[o];
    if (arg < 0 || v > best || (v !== v && best === best)) {
      best = v;
      arg = o;
    }
  }
  if ($what === 1) { return arg; }
  return best;
}`);
}

/** dx[j] + Σ dy[i] over i with index[i] = j (the scatter as a gather). */
export const SCATTER_ADD = withConstants(`function(dy, index, dx) {
  const j = this.thread.x;
  let s = dx[j];
  for (let i = 0; i < $n; i++) {
    if (index[i] === j) { s += dy[i]; }
  }
  return s;
}`);
