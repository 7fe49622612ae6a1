// A float64 direct 3×3 convolution (stride 1, padding 1) of float32 data, forward and both
// gradients, for one image: the exact values bench/winograd-error.ts measures against.
export function naiveConvF64(x: Float32Array, w: Float32Array, dy: Float32Array, C: number, K: number, H: number, W: number): { y: Float64Array; dx: Float64Array; dw: Float64Array } {
  const y = new Float64Array(K * H * W), dx = new Float64Array(C * H * W), dw = new Float64Array(K * C * 9);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < 3; r++) {
        for (let s = 0; s < 3; s++) {
          const wv = w[((k * C + c) * 3 + r) * 3 + s]!;
          let acc = 0;
          for (let p = 0; p < H; p++) {
            const h = p + r - 1;
            if (h < 0 || h >= H) continue;
            for (let q = 0; q < W; q++) {
              const v = q + s - 1;
              if (v < 0 || v >= W) continue;
              const xi = (c * H + h) * W + v, yi = (k * H + p) * W + q;
              y[yi] += wv * x[xi]!;
              dx[xi] += wv * dy[yi]!;
              acc += dy[yi]! * x[xi]!;
            }
          }
          dw[((k * C + c) * 3 + r) * 3 + s] = acc;
        }
      }
    }
  }
  return { y, dx, dw };
}
