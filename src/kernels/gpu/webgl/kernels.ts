// gpu.js kernel sources of the GPU backend. Each is a plain function in gpu.js's
// JavaScript subset over a 1-D output (see device.ts, trap 2); `$name` stands for
// `this.constants.name` (compiled in: loop bounds from constants are not capped at
// loopMaxIterations, trap 1). Values and indices are float32 in every mode: integer
// division goes through `idiv`, which corrects the rounding of a float division (GLSL's
// division is not correctly rounded), exact for indices below 2^24.
import type { BinaryOp, CostName, UnaryOp } from '../../backend.js';
import { SAFELOG_MIN } from '../../cost-terms.js';

/** floor(i / c) for integer-valued i (any sign) and c > 0. */
export function idiv(i: number, c: number): number {
  let q = Math.floor((i + 0.5) / c);
  const r = i - q * c;
  if (r < 0) {
    q = q - 1;
  }
  if (r >= c) {
    q = q + 1;
  }
  return q;
}

/** A kernel source: `$x` → `this.constants.x`. */
function src(s: string): string {
  return s.replace(/\$(\w+)/g, 'this.constants.$1');
}

// ---- Storage -----------------------------------------------------------------------------

/** out = r placed as a rows×cols block at off (row stride ld) over old, elsewhere old. */
export const PLACE = src(`function(old, r) {
  const t = this.thread.x;
  const rel = t - $off;
  if (rel < 0) { return old[t]; }
  const i = idiv(rel, $ld);
  const j = rel - i * $ld;
  if (i >= $rows || j >= $cols) { return old[t]; }
  return r[i * $cols + j];
}`);

/** old with [off, end) set to value. `this.thread.x` is used directly against integer constants (strictIntegers): exact past 2^24 on GL. */
export const FILL = src(`function(old) {
  if (this.thread.x >= $off && this.thread.x < $end) { return $value; }
  return old[this.thread.x];
}`);

/** m values of a from off: a window of a texture (run under strictIntegers: integer index arithmetic). */
export const SLICE = src(`function(a) { return a[this.thread.x + $off]; }`);

/** old with [s, e) replaced by r[0 .. e − s) (strictIntegers: integer comparisons and index arithmetic). */
export const SPLICE = src(`function(old, r) {
  if (this.thread.x >= $s && this.thread.x < $e) { return r[this.thread.x - $s]; }
  return old[this.thread.x];
}`);

export const ZEROS = src(`function() { return 0; }`);

// ---- gemm ----------------------------------------------------------------------------------

/** [M·N] block of alpha·op(A)·op(B) + beta·C (C at co with stride ldc; not read when beta = 0). */
export function gemmSource(tA: boolean, tB: boolean, withC: boolean): string {
  const a = tA ? 'A[$ao + k * $lda + i]' : 'A[$ao + i * $lda + k]';
  const b = tB ? 'B[$bo + j * $ldb + k]' : 'B[$bo + k * $ldb + j]';
  return src(`function(A, B${withC ? ', C' : ''}) {
  const t = this.thread.x;
  const i = idiv(t, $N);
  const j = t - i * $N;
  let s = 0;
  for (let k = 0; k < $K; k++) {
    s += ${a} * ${b};
  }
  return $alpha * s${withC ? ' + $beta * C[$co + i * $ldc + j]' : ''};
}`);
}

// ---- im2col / col2im -------------------------------------------------------------------------

/** [C·R·S · P·Q] patches of the image at xo. */
export const IM2COL = src(`function(x) {
  const t = this.thread.x;
  const row = idiv(t, $PQ);
  const j = t - row * $PQ;
  const c = idiv(row, $RS);
  const rs = row - c * $RS;
  const r = idiv(rs, $S);
  const s = rs - r * $S;
  const p = idiv(j, $Q);
  const q = j - p * $Q;
  const h = p * $strideH - $padH + r * $dilH;
  const w = q * $strideW - $padW + s * $dilW;
  if (h < 0 || h >= $H || w < 0 || w >= $W) { return 0; }
  return x[$xo + (c * $H + h) * $W + w];
}`);

/** [C·H·W]: dx at dxo + the adjoint of im2col of cols (at co, row stride ld). */
export const COL2IM = src(`function(cols, dx) {
  const t = this.thread.x;
  const c = idiv(t, $HW);
  const hw = t - c * $HW;
  const h = idiv(hw, $W);
  const w = hw - h * $W;
  let sum = dx[$dxo + t];
  for (let r = 0; r < $R; r++) {
    const hp = h + $padH - r * $dilH;
    const p = idiv(hp, $strideH);
    if (p * $strideH === hp && p >= 0 && p < $P) {
      for (let s = 0; s < $S; s++) {
        const wq = w + $padW - s * $dilW;
        const q = idiv(wq, $strideW);
        if (q * $strideW === wq && q >= 0 && q < $Q) {
          sum += cols[$co + ((c * $R + r) * $S + s) * $ld + p * $Q + q];
        }
      }
    }
  }
  return sum;
}`);

// ---- Direct convolution ----------------------------------------------------------------------

/** y[n, k, p, q] for the images at xo (output: nb·K·P·Q). */
export function convForwardSource(bias: boolean): string {
  return src(`function(x, w${bias ? ', b' : ''}) {
  const t = this.thread.x;
  const n = idiv(t, $KPQ);
  const kpq = t - n * $KPQ;
  const k = idiv(kpq, $PQ);
  const pq = kpq - k * $PQ;
  const p = idiv(pq, $Q);
  const q = pq - p * $Q;
  let sum = ${bias ? 'b[k]' : '0'};
  for (let c = 0; c < $C; c++) {
    for (let r = 0; r < $R; r++) {
      const h = p * $strideH - $padH + r * $dilH;
      if (h >= 0 && h < $H) {
        for (let s = 0; s < $S; s++) {
          const ww = q * $strideW - $padW + s * $dilW;
          if (ww >= 0 && ww < $W) {
            sum += x[$xo + n * $CHW + (c * $H + h) * $W + ww] * w[((k * $C + c) * $R + r) * $S + s];
          }
        }
      }
    }
  }
  return sum;
}`);
}

/** dx[n, c, h, w] (overwritten) of the images whose dy starts at dyo (output nb·C·H·W). */
export const CONV_DX = src(`function(dy, w) {
  const t = this.thread.x;
  const n = idiv(t, $CHW);
  const chw = t - n * $CHW;
  const c = idiv(chw, $HW);
  const hw = chw - c * $HW;
  const h = idiv(hw, $W);
  const ww = hw - h * $W;
  let sum = 0;
  for (let r = 0; r < $R; r++) {
    const hp = h + $padH - r * $dilH;
    const p = idiv(hp, $strideH);
    if (p * $strideH === hp && p >= 0 && p < $P) {
      for (let s = 0; s < $S; s++) {
        const wq = ww + $padW - s * $dilW;
        const q = idiv(wq, $strideW);
        if (q * $strideW === wq && q >= 0 && q < $Q) {
          for (let k = 0; k < $K; k++) {
            sum += dy[$dyo + n * $KPQ + k * $PQ + p * $Q + q] * w[((k * $C + c) * $R + r) * $S + s];
          }
        }
      }
    }
  }
  return sum;
}`);

/** dw[k, c, r, s] + Σ over the images, P, Q (output K·C·R·S). */
export const CONV_DW = src(`function(x, dy, dw) {
  const t = this.thread.x;
  const k = idiv(t, $CRS);
  const crs = t - k * $CRS;
  const c = idiv(crs, $RS);
  const rs = crs - c * $RS;
  const r = idiv(rs, $S);
  const s = rs - r * $S;
  let sum = 0;
  for (let n = 0; n < $NB; n++) {
    for (let p = 0; p < $P; p++) {
      const h = p * $strideH - $padH + r * $dilH;
      if (h >= 0 && h < $H) {
        for (let q = 0; q < $Q; q++) {
          const ww = q * $strideW - $padW + s * $dilW;
          if (ww >= 0 && ww < $W) {
            sum += dy[$dyo + n * $KPQ + k * $PQ + p * $Q + q] * x[$xo + n * $CHW + (c * $H + h) * $W + ww];
          }
        }
      }
    }
  }
  return dw[t] + sum;
}`);

// ---- Bias ------------------------------------------------------------------------------------

export const BIAS_ADD = src(`function(x, b) {
  const t = this.thread.x;
  const nc = idiv(t, $HW);
  const c = nc - idiv(nc, $C) * $C;
  return x[$xo + t] + b[c];
}`);

/** db[c] (+)= Σ over N and HW of dy (output C). */
export function biasBackwardSource(accumulate: boolean): string {
  return src(`function(dy${accumulate ? ', db' : ''}) {
  const c = this.thread.x;
  let sum = 0;
  for (let n = 0; n < $N; n++) {
    for (let i = 0; i < $HW; i++) {
      sum += dy[$dyo + (n * $C + c) * $HW + i];
    }
  }
  return ${accumulate ? 'db[c] + sum' : 'sum'};
}`);
}

// ---- Pooling ---------------------------------------------------------------------------------

/** Max pooling of the planes at xo: the max (what = 0) or its flat index h·W + w in the plane (what = 1). */
export const MAXPOOL = src(`function(x) {
  const t = this.thread.x;
  const plane = idiv(t, $PQ);
  const pq = t - plane * $PQ;
  const p = idiv(pq, $Q);
  const q = pq - p * $Q;
  let best = 0;
  let arg = -1;
  for (let r = 0; r < $R; r++) {
    const h = p * $strideH - $padH + r;
    if (h >= 0 && h < $H) {
      for (let s = 0; s < $S; s++) {
        const w = q * $strideW - $padW + s;
        if (w >= 0 && w < $W) {
          const v = x[$xo + plane * $HW + h * $W + w];
          if (arg < 0 || !(v <= best)) {
            best = v;
            arg = h * $W + w;
          }
        }
      }
    }
  }
  if ($what === 1) { return arg; }
  if (arg < 0) { return 0; }
  return best;
}`);

/**
 * The body of a pooling backward as a gather: thread t is pixel (plane, h, w) of dx, which
 * starts from dx and adds `body` for every window (p, q) that holds the pixel (body sees
 * plane, hw, p, q and adds to `sum`).
 */
const POOL_GATHER = (args: string, body: string): string => `function(${args}) {
  const t = this.thread.x;
  const plane = idiv(t, $HW);
  const hw = t - plane * $HW;
  const h = idiv(hw, $W);
  const w = hw - h * $W;
  let sum = dx[$dxo + t];
  for (let r = 0; r < $R; r++) {
    const hp = h + $padH - r;
    const p = idiv(hp, $strideH);
    if (p * $strideH === hp && p >= 0 && p < $P) {
      for (let s = 0; s < $S; s++) {
        const wq = w + $padW - s;
        const q = idiv(wq, $strideW);
        if (q * $strideW === wq && q >= 0 && q < $Q) {
${body}        }
      }
    }
  }
  return sum;
}`;

/** dx of the planes + dy routed to each window's argmax (a gather over the windows that hold each pixel). */
export const MAXPOOL_BACK = src(POOL_GATHER('dy, argmax, dx', `
          const o = $yo + plane * $PQ + p * $Q + q;
          if (argmax[o] === hw) {
            sum += dy[o];
          }
`));

/** The divisor of the window at (p, q), as the reference backend's windowCount. */
const WINDOW_COUNT = (countPad: boolean): string => (countPad
  ? `const n = (Math.min(h0 + $R, $H + $padH) - h0) * (Math.min(w0 + $S, $W + $padW) - w0);`
  : `const n = (Math.min(h0 + $R, $H) - Math.max(h0, 0)) * (Math.min(w0 + $S, $W) - Math.max(w0, 0));`);

export function avgPoolSource(countPad: boolean): string {
  return src(`function(x) {
  const t = this.thread.x;
  const plane = idiv(t, $PQ);
  const pq = t - plane * $PQ;
  const p = idiv(pq, $Q);
  const q = pq - p * $Q;
  const h0 = p * $strideH - $padH;
  const w0 = q * $strideW - $padW;
  let sum = 0;
  for (let r = 0; r < $R; r++) {
    const h = h0 + r;
    if (h >= 0 && h < $H) {
      for (let s = 0; s < $S; s++) {
        const w = w0 + s;
        if (w >= 0 && w < $W) {
          sum += x[$xo + plane * $HW + h * $W + w];
        }
      }
    }
  }
  ${WINDOW_COUNT(countPad)}
  if (n > 0) { return sum / n; }
  return 0;
}`);
}

export function avgPoolBackSource(countPad: boolean): string {
  return src(POOL_GATHER('dy, dx', `
          const h0 = p * $strideH - $padH;
          const w0 = q * $strideW - $padW;
          ${WINDOW_COUNT(countPad)}
          if (n > 0) {
            sum += dy[$yo + plane * $PQ + p * $Q + q] / n;
          }
`));
}

// ---- Elementwise -------------------------------------------------------------------------------

const UNARY: Record<UnaryOp, string> = {
  neg: '-v',
  exp: 'Math.exp(v)',
  log: 'Math.log(v)',
  sqrt: 'Math.sqrt(v)',
  abs: 'Math.abs(v)',
  // NaN propagates: both comparisons are false for NaN.
  relu: '(v > 0 ? v : (v <= 0 ? 0 : v))',
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
  return src(`function(x) { const ${reverse ? 'b' : 'a'} = x[this.thread.x]; const ${reverse ? 'a' : 'b'} = $scalar; return ${BINARY[op]}; }`);
}

/** out[t] = the source element inv[t] names, or old[t] where inv[t] < 0 (strided copy). */
export const SCATTER_COPY = `function(old, x, inv) { const o = inv[this.thread.x]; if (o < 0) { return old[this.thread.x]; } return x[o]; }`;

// ---- Reductions ---------------------------------------------------------------------------------

/** out[o] = Σ or max over r of x[base[o] + roff[r]]; what = 1 gives the flat index of the first max. */
export function reduceSource(op: 'sum' | 'max'): string {
  if (op === 'sum') {
    return src(`function(x, base, roff) {
  const b = base[this.thread.x];
  let s = 0;
  for (let r = 0; r < $R; r++) { const o = b + roff[r]; s += x[o]; }
  return s;
}`);
  }
  return src(`function(x, base, roff) {
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
export const SCATTER_ADD = src(`function(dy, index, dx) {
  const j = this.thread.x;
  let s = dx[j];
  for (let i = 0; i < $n; i++) {
    if (index[i] === j) { s += dy[i]; }
  }
  return s;
}`);

// ---- Softmax, costs --------------------------------------------------------------------------------

export function softmaxSource(log: boolean): string {
  return src(`function(x) {
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
  return src(`function(y, dy) {
  const t = this.thread.x;
  const row = idiv(t, $cols);
  const base = row * $cols;
  let dot = 0;
  for (let j = 0; j < $cols; j++) { dot += dy[base + j]${log ? '' : ' * y[base + j]'}; }
  ${log ? 'return dy[t] - Math.exp(y[t]) * dot;' : 'return y[t] * (dy[t] - dot);'}
}`);
}

// neon's cost terms (../cost-terms.ts) in kernel form; safelog(v) = log(max(v, e^−50)).
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
  return src(`function(y, tt) {
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
  return src(`function(y, tt) { const v = y[this.thread.x]; const u = tt[this.thread.x]; return $scale * (${COST_DF[cost]}); }`);
}

// ---- Optimizer ------------------------------------------------------------------------------------

/**
 * neon's momentum SGD (src/kernels/cpu/gdm.ts) for one element, in float32: what = 0 gives
 * the new parameter, what = 1 the new velocity. `mode` 0: lr = 0 (no gradient read),
 * 1: μ = 0 (no velocity), 2: the full momentum update.
 */
export function gdmSource(mode: 0 | 1 | 2, nesterov: boolean, gclip: boolean, pclip: boolean): string {
  const clipG = gclip ? 'gi = Math.min(Math.max(gi, -$gclip), $gclip);' : '';
  const clipP = pclip ? 'next = Math.min(Math.max(next, -$pclip), $pclip);' : '';
  if (mode === 1) {
    return src(`function(p, g) {
  let gi = g[this.thread.x] / $bsz;
  ${clipG}
  return -$lr * $scale * gi + (1 - $lr * $wdecay) * p[this.thread.x];
}`);
  }
  const gp = mode === 0 ? '0' : '$scale * gi + $wdecay * pi';
  return src(`function(p, ${mode === 0 ? '' : 'g, '}v) {
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
