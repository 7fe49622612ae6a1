// Max and average pooling over NCHW. Each (n, c) plane is pooled independently with the
// window geometry (no dilation). Max pooling records the argmax of every window so that
// backward routes each gradient to exactly the element that won.
import type { FloatArray, WindowGeometry } from '../../backend.js';

export function maxPoolForward(x: FloatArray, N: number, g: WindowGeometry, y: FloatArray, argmax: Int32Array): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, P, Q } = g;
  for (let plane = 0; plane < N * C; plane++) {
    const xBase = plane * H * W;
    const yBase = plane * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      const hLo = Math.max(h0, 0), hHi = Math.min(h0 + R, H);
      for (let q = 0; q < Q; q++) {
        const w0 = q * strideW - padW;
        const wLo = Math.max(w0, 0), wHi = Math.min(w0 + S, W);
        let best = -Infinity;
        let arg = -1;
        for (let h = hLo; h < hHi; h++) {
          for (let w = wLo; w < wHi; w++) {
            const v = x[xBase + h * W + w]!;
            // `!(v <= best)` also takes a NaN, so NaN propagates as in PyTorch.
            if (arg < 0 || !(v <= best)) {
              best = v;
              arg = h * W + w;
            }
          }
        }
        y[yBase + p * Q + q] = arg < 0 ? 0 : best;
        argmax[yBase + p * Q + q] = arg;
      }
    }
  }
}

export function maxPoolBackward(dy: FloatArray, argmax: Int32Array, N: number, g: WindowGeometry, dx: FloatArray): void {
  const { C, H, W, P, Q } = g;
  for (let plane = 0; plane < N * C; plane++) {
    const xBase = plane * H * W;
    const yBase = plane * P * Q;
    for (let i = 0; i < P * Q; i++) {
      const a = argmax[yBase + i]!;
      if (a >= 0) dx[xBase + a]! += dy[yBase + i]!;
    }
  }
}

function windowCount(g: WindowGeometry, p: number, q: number, countPad: boolean): number {
  const h0 = p * g.strideH - g.padH, w0 = q * g.strideW - g.padW;
  if (countPad) {
    // Like PyTorch: the window is clipped to the padded image, padding included.
    const hEnd = Math.min(h0 + g.R, g.H + g.padH), wEnd = Math.min(w0 + g.S, g.W + g.padW);
    return (hEnd - h0) * (wEnd - w0);
  }
  return (Math.min(h0 + g.R, g.H) - Math.max(h0, 0)) * (Math.min(w0 + g.S, g.W) - Math.max(w0, 0));
}

export function avgPoolForward(x: FloatArray, N: number, g: WindowGeometry, countPad: boolean, y: FloatArray): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, P, Q } = g;
  for (let plane = 0; plane < N * C; plane++) {
    const xBase = plane * H * W;
    const yBase = plane * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      for (let q = 0; q < Q; q++) {
        const w0 = q * strideW - padW;
        let sum = 0;
        for (let h = Math.max(h0, 0); h < Math.min(h0 + R, H); h++) {
          for (let w = Math.max(w0, 0); w < Math.min(w0 + S, W); w++) sum += x[xBase + h * W + w]!;
        }
        const n = windowCount(g, p, q, countPad);
        y[yBase + p * Q + q] = n > 0 ? sum / n : 0;
      }
    }
  }
}

export function avgPoolBackward(dy: FloatArray, N: number, g: WindowGeometry, countPad: boolean, dx: FloatArray): void {
  const { C, H, W, R, S, strideH, strideW, padH, padW, P, Q } = g;
  for (let plane = 0; plane < N * C; plane++) {
    const xBase = plane * H * W;
    const yBase = plane * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      for (let q = 0; q < Q; q++) {
        const w0 = q * strideW - padW;
        const n = windowCount(g, p, q, countPad);
        if (n <= 0) continue;
        const share = dy[yBase + p * Q + q]! / n;
        for (let h = Math.max(h0, 0); h < Math.min(h0 + R, H); h++) {
          for (let w = Math.max(w0, 0); w < Math.min(w0 + S, W); w++) dx[xBase + h * W + w]! += share;
        }
      }
    }
  }
}
