// gpu.js kernel sources for linear algebra, convolution and pooling: gemm, im2col/col2im,
// the direct convolution and its gradients, the bias, max and average pooling. Each thread
// computes one output value (see ./common.ts for `$name` and `idiv`).
import { withConstants } from './common.js';
import { RELU_OF_V } from './elementwise.js';

// ---- gemm ----------------------------------------------------------------------------------

/**
 * [M·N] block of alpha·op(A)·op(B) + beta·C (C at co with stride ldc; not read when beta = 0);
 * with the epilogue of a dense layer, + bias[bio + j] and then the ReLU (each step in the
 * kernel's float32, as the separate biasAdd and relu kernels would round it).
 */
export function gemmSource(tA: boolean, tB: boolean, withC: boolean, bias = false, relu = false): string {
  const a = tA ? 'A[$ao + k * $lda + i]' : 'A[$ao + i * $lda + k]';
  const b = tB ? 'B[$bo + j * $ldb + k]' : 'B[$bo + k * $ldb + j]';
  const args = `A, B${withC ? ', C' : ''}${bias ? ', bias' : ''}`;
  return withConstants(`function(${args}) {
  const t = this.thread.x;
  const i = idiv(t, $N);
  const j = t - i * $N;
  let s = 0;
  for (let k = 0; k < $K; k++) {
    s += ${a} * ${b};
  }
  const p = $alpha * s${withC ? ' + $beta * C[$co + i * $ldc + j]' : ''};
  ${bias ? 'const v = p + bias[$bio + j];' : 'const v = p;'}
  return ${relu ? RELU_OF_V : 'v'};
}`);
}

// ---- im2col / col2im -------------------------------------------------------------------------

/** [C·R·S · P·Q] patches of the image at xo. */
export const IM2COL = withConstants(`function(x) {
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
export const COL2IM = withConstants(`function(cols, dx) {
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

/** y[n, k, p, q] for the images at xo (output: nb·K·P·Q); the bias is added to the finished sum, as a separate biasAdd would. */
export function convForwardSource(bias: boolean): string {
  return withConstants(`function(x, w${bias ? ', b' : ''}) {
  const t = this.thread.x;
  const n = idiv(t, $KPQ);
  const kpq = t - n * $KPQ;
  const k = idiv(kpq, $PQ);
  const pq = kpq - k * $PQ;
  const p = idiv(pq, $Q);
  const q = pq - p * $Q;
  let sum = 0;
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
  return sum${bias ? ' + b[k]' : ''};
}`);
}

/** dx[n, c, h, w] (overwritten) of the images whose dy starts at dyo (output nb·C·H·W). */
export const CONV_DX = withConstants(`function(dy, w) {
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
export const CONV_DW = withConstants(`function(x, dy, dw) {
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

export const BIAS_ADD = withConstants(`function(x, b) {
  const t = this.thread.x;
  const nc = idiv(t, $HW);
  const c = nc - idiv(nc, $C) * $C;
  return x[$xo + t] + b[c];
}`);

/** db[c] (+)= Σ over N and HW of dy (output C). */
export function biasBackwardSource(accumulate: boolean): string {
  return withConstants(`function(dy${accumulate ? ', db' : ''}) {
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
export const MAXPOOL = withConstants(`function(x) {
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
export const MAXPOOL_BACK = withConstants(POOL_GATHER('dy, argmax, dx', `
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
  return withConstants(`function(x) {
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
  return withConstants(POOL_GATHER('dy, dx', `
          const h0 = p * $strideH - $padH;
          const w0 = q * $strideW - $padW;
          ${WINDOW_COUNT(countPad)}
          if (n > 0) {
            sum += dy[$yo + plane * $PQ + p * $Q + q] / n;
          }
`));
}
