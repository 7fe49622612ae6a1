// F(4×4, 3×3)'s SIMD transforms (simd-winograd43.ts) run on one thread's WebAssembly
// instance, each under the contract of the float64 JavaScript transform it replaces
// (winograd43.ts; used instead for float64 data or without the module): the data copied
// into the instance's memory, transformed there, and copied out, in as few and as long
// runs as the layouts allow. A WebAssembly memory never shrinks, and each thread has its
// own: so each transform stages at most `staged` floats at a time (blocks of channels, of
// filters), which bounds what the instances hold to a few MB whatever the layer's size.
import type { SimdInstance } from './simd.js';
import { copyRow } from './gemm.js';
import { winograd43FilterGrad, winograd43GradOutput, winograd43Input, winograd43Output, winograd43WeightsRange } from './winograd43.js';
import type { WinogradContext } from './winograd.js';

/** The most floats a transform stages in an instance's memory at once (4 MB). */
export const MAX_STAGED = 1 << 20;

/**
 * F(4×4, 3×3)'s input transform on this thread's instance, under winograd43Input's contract
 * (the float64 JavaScript one, used for other dtypes or without the module). Each plane
 * is copied into the instance's memory inside its zero border and transformed four tiles
 * at a time straight into V's layout [36, C, T] there; then V comes out in 36 runs of C·T
 * values. A tile row whose length is not a multiple of 4 runs over into the next tiles,
 * which are written later (planes in the order of V, c then j), or into 4 spare values
 * after each of the 36 planes.
 */
export function simdWinograd43Input(inst: SimdInstance, staged = MAX_STAGED): typeof winograd43Input {
  return (x, n0, m, C, H, W, padH, padW, TH, TW, V, pad) => {
    if (!inst.wino43In || !(x instanceof Float32Array) || !(V instanceof Float32Array)) {
      winograd43Input(x, n0, m, C, H, W, padH, padW, TH, TW, V, pad);
      return;
    }
    winograd43InputChannels(inst, x, n0, m, C, H, W, padH, padW, TH, TW, V, 0, C, staged);
  };
}

/** simdWinograd43Input's work on channels c0 ≤ c < c1 (of every image of the chunk): V's planes [ξ, c] only. The instance has the SIMD transforms. */
export function winograd43InputChannels(
  inst: SimdInstance, x: Float32Array, n0: number, m: number, C: number, H: number, W: number, padH: number, padW: number,
  TH: number, TW: number, V: Float32Array, c0: number, c1: number, staged = MAX_STAGED,
): void {
  const kernel = inst.wino43In!;
  const twq = Math.ceil(TW / 4), Wp = 16 * twq + 4, Hp = 4 * TH + 2, padF = Hp * Wp, HW = H * W;
  const Timg = TH * TW, T = m * Timg, CT = C * T;
  // channels [a, a + cb) at a time: V's 36 planes of that block are runs of cb·T
  const cb = Math.max(1, Math.floor((staged - padF - 144) / (36 * T)));
  const wn = Math.min(W, Wp - padW);
  for (let a = c0; a < c1; a += cb) {
    const nc = Math.min(cb, c1 - a), planeF = nc * T + 4;
    const f = inst.reserve(padF + 36 * planeF);
    f.fill(0, 0, padF); // the border (and rows and columns past the image) stay zero
    for (let c = 0; c < nc; c++) {
      for (let j = 0; j < m; j++) {
        const src = (n0 + j) * C * HW + (a + c) * HW;
        for (let h = 0; h < H && h + padH < Hp; h++) copyRow(x, src + h * W, f, (h + padH) * Wp + padW, wn);
        kernel(0, Wp, TH, twq, 4 * (padF + c * T + j * Timg), 4 * planeF, 4 * TW);
      }
    }
    for (let xi = 0; xi < 36; xi++) copyRow(f, padF + xi * planeF, V, xi * CT + a * T, nc * T);
  }
}

/**
 * F(4×4, 3×3)'s output transform on this thread's instance, under winograd43Output's
 * contract: the products M[36, K, T] copied into the instance's memory in one run; per
 * output plane (image j, channel k), its tiles transformed (a tile row not a multiple of 4
 * long reads on into the next tiles or the spare values at the end: computed, never
 * copied out), and the P rows of Q outputs copied into y.
 */
export function simdWinograd43Output(inst: SimdInstance, staged = MAX_STAGED): typeof winograd43Output {
  return (M, n0, m, K, T, TH, TW, P, Q, y) => {
    if (!inst.wino43Out || !(M instanceof Float32Array) || !(y instanceof Float32Array)) {
      winograd43Output(M, n0, m, K, T, TH, TW, P, Q, y);
      return;
    }
    winograd43OutputChannels(inst, M, n0, m, K, T, TH, TW, P, Q, y, 0, K, staged);
  };
}

/** simdWinograd43Output's work on output channels k0 ≤ k < k1 (of every image of the chunk): y's planes of those channels only. */
export function winograd43OutputChannels(
  inst: SimdInstance, M: Float32Array, n0: number, m: number, K: number, T: number, TH: number, TW: number,
  P: number, Q: number, y: Float32Array, k0: number, k1: number, staged = MAX_STAGED,
): void {
  const kernel = inst.wino43Out!;
  const twq = Math.ceil(TW / 4), outW = 16 * twq, KT = K * T, outF = 4 * TH * outW;
  const Timg = TH * TW, PQ = P * Q;
  // output channels [a, a + kb) at a time: M's 36 planes of that block are runs of kb·T
  const kb = Math.max(1, Math.floor((staged - outF - 4) / (36 * T)));
  for (let a = k0; a < k1; a += kb) {
    const nk = Math.min(kb, k1 - a), bT = nk * T, inF = 36 * bT + 4;
    const f = inst.reserve(inF + outF);
    for (let xi = 0; xi < 36; xi++) copyRow(M, xi * KT + a * T, f, xi * bT, bT);
    f.fill(0, 36 * bT, inF);
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < nk; k++) {
        kernel(4 * (k * T + j * Timg), 4 * bT, TH, twq, 4 * inF, 4 * TW);
        const out = (n0 + j) * K * PQ + (a + k) * PQ;
        for (let p = 0; p < P; p++) copyRow(f, inF + p * outW, y, out + p * Q, Q);
      }
    }
  }
}

/**
 * F(4×4, 3×3)'s output-gradient transform (weight gradient) on this thread's instance,
 * under winograd43GradOutput's contract: each plane of dy copied into a zero-padded plane
 * of the instance's memory and transformed four tiles at a time into Ŷ's layout
 * [36, K, T] there (run-overs as in simdWinograd43Input), which comes out in 36 runs.
 */
export function simdWinograd43GradOutput(inst: SimdInstance, staged = MAX_STAGED): typeof winograd43GradOutput {
  return (dy, n0, m, K, T, TH, TW, P, Q, Y) => {
    if (!inst.wino43Dy || !(dy instanceof Float32Array) || !(Y instanceof Float32Array)) {
      winograd43GradOutput(dy, n0, m, K, T, TH, TW, P, Q, Y);
      return;
    }
    winograd43GradOutputChannels(inst, dy, n0, m, K, T, TH, TW, P, Q, Y, 0, K, staged);
  };
}

/** simdWinograd43GradOutput's work on output channels k0 ≤ k < k1 (of every image of the chunk): Ŷ's planes [ξ, k] only. */
export function winograd43GradOutputChannels(
  inst: SimdInstance, dy: Float32Array, n0: number, m: number, K: number, T: number, TH: number, TW: number,
  P: number, Q: number, Y: Float32Array, k0: number, k1: number, staged = MAX_STAGED,
): void {
  const kernel = inst.wino43Dy!;
  const twq = Math.ceil(TW / 4), wp = 16 * twq, padF = 4 * TH * wp;
  const Timg = TH * TW, KT = K * T, PQ = P * Q;
  // output channels [a, a + kb) at a time, as the input's channel blocks
  const kb = Math.max(1, Math.floor((staged - padF - 144) / (36 * T)));
  for (let a = k0; a < k1; a += kb) {
    const nk = Math.min(kb, k1 - a), planeF = nk * T + 4;
    const f = inst.reserve(padF + 36 * planeF);
    f.fill(0, 0, padF); // rows and columns past P × Q stay zero
    for (let k = 0; k < nk; k++) {
      for (let j = 0; j < m; j++) {
        const src = (n0 + j) * K * PQ + (a + k) * PQ;
        for (let p = 0; p < P; p++) copyRow(dy, src + p * Q, f, p * wp, Q);
        kernel(0, wp, TH, twq, 4 * (padF + k * T + j * Timg), 4 * planeF, 4 * TW);
      }
    }
    for (let xi = 0; xi < 36; xi++) copyRow(f, padF + xi * planeF, Y, xi * KT + a * T, nk * T);
  }
}

/**
 * F(4×4, 3×3)'s filter transform of output channels k0 ≤ k < k1 on this thread's instance,
 * under winograd43WeightsRange's contract: the filters copied into the instance's memory in
 * the order of their destinations in U (flipped: U[ξ, c, k] holds w[k, c] reversed, so
 * copied c by c), transformed four at a time, and U's 36 planes copied out.
 */
export function simdWinograd43WeightsRange(inst: SimdInstance, staged = MAX_STAGED): typeof winograd43WeightsRange {
  const block = (w: Float32Array, K: number, C: number, flip: boolean, U: Float32Array, k0: number, k1: number): void => {
    const kernel = inst.wino43U!;
    const nk = k1 - k0, n = nk * C, n4 = Math.ceil(n / 4), inF = 36 * n4 + 4, planeF = 4 * n4, KC = K * C;
    const f = inst.reserve(inF + 36 * planeF);
    if (!flip) copyRow(w, 9 * k0 * C, f, 0, 9 * n);
    else {
      for (let c = 0; c < C; c++) {
        for (let k = k0; k < k1; k++) {
          const s = (k * C + c) * 9, d = (c * nk + k - k0) * 9;
          for (let i = 0; i < 9; i++) f[d + i] = w[s + 8 - i]!;
        }
      }
    }
    f.fill(0, 9 * n, inF); // the last group's missing filters and the floats read past them
    kernel(0, n4, 4 * inF, 4 * planeF);
    for (let xi = 0; xi < 36; xi++) {
      const from = inF + xi * planeF;
      if (!flip) copyRow(f, from, U, xi * KC + k0 * C, n);
      else for (let c = 0; c < C; c++) copyRow(f, from + c * nk, U, xi * KC + c * K + k0, nk);
    }
  };
  return (w, K, C, flip, U, k0, k1) => {
    if (!inst.wino43U || !(w instanceof Float32Array) || !(U instanceof Float32Array) || k1 <= k0) {
      winograd43WeightsRange(w, K, C, flip, U, k0, k1);
      return;
    }
    // filters [a, a + kb) at a time: 45 staged floats a filter (9 in, 36 out)
    const kb = Math.max(1, Math.floor((staged - 160) / (45 * C)));
    for (let a = k0; a < k1; a += kb) block(w, K, C, flip, U, a, Math.min(k1, a + kb));
  };
}

/**
 * F(4×4, 3×3)'s last step of the weight gradient on this thread's instance, under
 * winograd43FilterGrad's contract: Ĝ copied into the instance's memory, transformed four
 * filters at a time, and the 3 × 3 results added to dw.
 */
export function simdWinograd43FilterGrad(inst: SimdInstance, staged = MAX_STAGED): typeof winograd43FilterGrad {
  return (Gh, KC, dw) => {
    const kernel = inst.wino43Dw;
    if (!kernel || !(Gh instanceof Float32Array) || !(dw instanceof Float32Array) || KC === 0) {
      winograd43FilterGrad(Gh, KC, dw);
      return;
    }
    // filters [a, a + nb) at a time, nb a multiple of 4: 45 staged floats a filter (36 in, 9 out)
    const nb = Math.max(4, 4 * Math.floor((staged - 4) / (45 * 4)));
    for (let a = 0; a < KC; a += nb) {
      const n = Math.min(nb, KC - a), n4 = Math.ceil(n / 4), planeF = 4 * n4, inF = 36 * planeF;
      const f = inst.reserve(inF + 36 * n4 + 4);
      for (let xi = 0; xi < 36; xi++) copyRow(Gh, xi * KC + a, f, xi * planeF, n);
      if (planeF > n) for (let xi = 0; xi < 36; xi++) f.fill(0, xi * planeF + n, (xi + 1) * planeF);
      kernel(0, n4, 4 * planeF, 4 * inF);
      for (let i = 0, m = 9 * n, d = 9 * a; i < m; i++) dw[d + i] += f[inF + i]!;
    }
  };
}

/** The SIMD transforms of one instance, as a WinogradContext's input43, output43, gradOutput43, filterGrad43 and weights43 (all filters on this thread). */
export function simd43Transforms(inst: SimdInstance): Pick<WinogradContext, 'input43' | 'output43' | 'gradOutput43' | 'filterGrad43' | 'weights43'> {
  const range = simdWinograd43WeightsRange(inst);
  return {
    input43: simdWinograd43Input(inst), output43: simdWinograd43Output(inst), gradOutput43: simdWinograd43GradOutput(inst), filterGrad43: simdWinograd43FilterGrad(inst),
    weights43: (w, K, C, flip, ctx) => {
      const U = ctx.alloc(36 * K * C);
      range(w, K, C, flip, U, 0, K);
      return U;
    },
  };
}
