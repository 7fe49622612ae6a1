// The webgpu kernels that bind whole activations, run in pieces that each fit one storage
// binding (./windows.ts): pooling over planes, im2col and col2im over images × rows of the columns,
// the bias over element ranges (its gradient over images, or channels of one image),
// softmax and the costs over rows, scatterAdd over windows of its target, and the strided
// binary ops and copy over slabs of their leading axes. A call whose buffers fit one binding
// runs as one piece, as before.
import type { WindowGeometry } from '../../backend.js';
import { WINDOW_ALIGN, type GBuf, type GWindow, type Gpu } from './device.js';
import { AVGPOOL, AVGPOOL_BACK, BIAS_ADD, BIAS_BACK, COL2IM, IM2COL, MAX_RANK, MAXPOOL, MAXPOOL_BACK, SCATTER_ADD, type Shader } from './shaders.js';
import { imageRowPieces, LOOP_STEPS, ranges, tooLarge, unitsPerPiece, windowOf } from './windows.js';

const geom = (g: WindowGeometry): number[] => [g.C, g.H, g.W, g.R, g.S, g.strideH, g.strideW, g.padH, g.padW, g.dilH, g.dilW, g.P, g.Q];

/** A strided view of a device buffer (the Backend's Strided, its buffer resolved). */
export interface DStrided {
  data: GBuf;
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
}

/** The parameters of the binary and copy shaders for two views over `shape`. */
function stridedParams(a: { offset: number; strides: readonly number[] }, b: { offset: number; strides: readonly number[] }, shape: readonly number[]): number[] {
  if (shape.length > MAX_RANK) throw new Error(`backend webgpu: views of rank ${shape.length} (at most ${MAX_RANK})`);
  const pad = (v: readonly number[]): number[] => [...v, ...new Array<number>(MAX_RANK - v.length).fill(0)];
  return [shape.length, ...pad(shape), ...pad(a.strides), ...pad(b.strides), a.offset, b.offset];
}

/** Elements [lo, hi) a strided view over `shape` touches. */
function span(offset: number, shape: readonly number[], strides: readonly number[]): [number, number] {
  let lo = offset, hi = offset;
  shape.forEach((d, k) => {
    const e = (d - 1) * strides[k]!;
    if (e < 0) lo += e;
    else hi += e;
  });
  return [lo, hi + 1];
}

/** One piece of a strided call: its shape, each view's offset, and the flat index of its first element. */
interface StridedPiece {
  shape: number[];
  offsets: number[];
  strides: number[][];
  start: number;
}

/**
 * Pieces of an index space `shape` over views (offsets, strides) such that each view's
 * touched window, and the contiguous output's range of the piece, fits `limit` elements:
 * slabs of the leading axis, and where one index of it is still too large, the same one
 * axis down.
 */
export function stridedPieces(shape: readonly number[], offsets: readonly number[], strides: readonly (readonly number[])[], limit: number): StridedPiece[] {
  const out: StridedPiece[] = [];
  const room = limit - WINDOW_ALIGN;
  const fits = (sh: readonly number[], offs: readonly number[], str: readonly (readonly number[])[], max: number): boolean =>
    sh.reduce((p, d) => p * d, 1) <= max && offs.every((o, v) => { const [lo, hi] = span(o, sh, str[v]!); return hi - lo <= max; });
  const go = (sh: number[], offs: number[], str: number[][], start: number): void => {
    if (fits(sh, offs, str, room)) {
      out.push({ shape: sh, offsets: offs, strides: str, start });
      return;
    }
    if (sh.length === 0) throw tooLarge('one element', 1, limit);
    const [d0, ...rest] = sh as [number, ...number[]];
    const restCount = rest.reduce((p, d) => p * d, 1);
    let r = d0;
    while (r > 1 && !fits([r, ...rest], offs, str, room)) r = Math.ceil(r / 2);
    if (fits([r, ...rest], offs, str, room)) {
      for (let k = 0; k < d0; k += r) {
        const m = Math.min(r, d0 - k);
        out.push({ shape: [m, ...rest], offsets: offs.map((o, v) => o + k * str[v]![0]!), strides: str, start: start + k * restCount });
      }
      return;
    }
    for (let k = 0; k < d0; k++) go(rest, offs.map((o, v) => o + k * str[v]![0]!), str.map((s) => s.slice(1)), start + k * restCount);
  };
  if (fits(shape, offsets, strides, limit)) return [{ shape: [...shape], offsets: [...offsets], strides: strides.map((s) => [...s]), start: 0 }];
  go([...shape], [...offsets], strides.map((s) => [...s]), 0);
  return out;
}

/** One piece of a reduce: its shape and reduced flags, where it starts in x and in out, whether it goes on from earlier pieces. */
export interface ReducePiece {
  shape: number[];
  red: boolean[];
  x0: number;
  out0: number;
  accum: boolean;
}

/**
 * Pieces of a reduce of contiguous x[shape] whose x range fits `limit` elements and whose
 * invocations sum at most LOOP_STEPS values: slabs of the leading axis (a reduced one sums
 * into the same outputs, in order), and where one index of it is still too large, the same
 * one axis down.
 */
export function reducePieces(shape: readonly number[], red: readonly boolean[], limit: number): ReducePiece[] {
  const count = (sh: readonly number[]): number => sh.reduce((p, d) => p * d, 1);
  const reduced = (sh: readonly number[], rd: readonly boolean[]): number => sh.reduce((p, d, k) => p * (rd[k] ? d : 1), 1);
  // loop steps of one invocation: each value summed visits every axis
  const steps = (sh: readonly number[], rd: readonly boolean[]): number => reduced(sh, rd) * (sh.length + 2);
  if (count(shape) <= limit && steps(shape, red) <= LOOP_STEPS) return [{ shape: [...shape], red: [...red], x0: 0, out0: 0, accum: false }];
  const room = limit - WINDOW_ALIGN;
  const out: ReducePiece[] = [];
  const go = (sh: number[], rd: boolean[], x0: number, out0: number, accum: boolean): void => {
    if (count(sh) <= room && steps(sh, rd) <= LOOP_STEPS) {
      out.push({ shape: sh, red: rd, x0, out0, accum });
      return;
    }
    const [d0, ...rest] = sh as [number, ...number[]];
    const [r0, ...restRed] = rd as [boolean, ...boolean[]];
    const restX = count(rest), restOut = rest.reduce((p, d, k) => p * (restRed[k] ? 1 : d), 1);
    const perRow = reduced(rest, restRed) * (sh.length + 2);
    const rows = Math.min(Math.floor(room / Math.max(1, restX)), r0 ? Math.floor(LOOP_STEPS / Math.max(1, perRow)) : perRow <= LOOP_STEPS ? d0 : 0);
    for (let k = 0; k < d0; k += Math.max(1, rows)) {
      const m = Math.min(Math.max(1, rows), d0 - k);
      const xk = x0 + k * restX, ok = r0 ? out0 : out0 + k * restOut, ak = accum || (r0 && k > 0);
      if (rows >= 1) out.push({ shape: [m, ...rest], red: rd, x0: xk, out0: ok, accum: ak });
      else go(rest, restRed, xk, ok, ak);
    }
  };
  go([...shape], [...red], 0, 0, false);
  return out;
}

export function splitKernels(gpu: Gpu) {
  const limit = (): number => gpu.maxBindingElements;
  /** f(u0, m) over pieces of `count` units, one unit spanning `perUnit` elements of the largest buffer it touches. */
  const inPieces = (count: number, perUnit: number, what: string, f: (u0: number, m: number) => void, most = Infinity): void => {
    if (count === 0) return;
    const k = Math.min(most, unitsPerPiece(count, perUnit, limit()));
    if (k < 1) throw tooLarge(what, perUnit, limit());
    for (const [u0, m] of ranges(count, k)) f(u0, m);
  };
  /** A view's window and its offset inside it, for the strided shaders. */
  const viewWindow = (g: GBuf, offset: number, shape: readonly number[], strides: readonly number[]): { w: GWindow; rel: number } => {
    const [lo, hi] = span(offset, shape, strides);
    const win = windowOf(g, lo, hi);
    return { w: win.w, rel: offset - win.w.off };
  };

  return {
    im2col: (x: GBuf, xo: number, g: WindowGeometry, cols: GBuf, co = 0, ld = g.P * g.Q, nb = 1): void => {
      const HW = g.H * g.W, PQ = g.P * g.Q, RS = g.R * g.S, CHW = g.C * HW;
      if (nb * g.C * RS * PQ === 0) return;
      const { ic, rows } = imageRowPieces(nb, g.C, HW, RS, PQ, ld, limit());
      for (const [i0, mi] of ranges(nb, ic)) {
        for (const [g0, mr] of ranges(g.C * RS, rows)) {
          const c0 = Math.floor(g0 / RS), c1 = Math.floor((g0 + mr - 1) / RS) + 1;
          const X = windowOf(x, xo + i0 * CHW + c0 * HW, xo + (i0 + mi - 1) * CHW + c1 * HW);
          const K = windowOf(cols, co + g0 * ld + i0 * PQ, co + (g0 + mr - 1) * ld + (i0 + mi) * PQ);
          gpu.dispatch(IM2COL, [X.w, K.w], [mr * mi * PQ, ...geom(g), X.rel, K.rel, ld, mi, g0 - c0 * RS]);
        }
      }
    },
    /** Pieces as im2col's; each adds its rows' share to dx (pieces of one channel's rows add in turn). */
    col2im: (cols: GBuf, g: WindowGeometry, dx: GBuf, dxo: number, co = 0, ld = g.P * g.Q, nb = 1): void => {
      const HW = g.H * g.W, PQ = g.P * g.Q, RS = g.R * g.S, CHW = g.C * HW;
      if (nb * CHW === 0) return;
      const { ic, rows } = RS * PQ === 0 ? { ic: nb, rows: g.C * RS } : imageRowPieces(nb, g.C, HW, RS, PQ, ld, limit());
      for (const [i0, mi] of ranges(nb, ic)) {
        for (const [g0, mr] of ranges(Math.max(1, g.C * RS), Math.max(1, rows))) {
          const c0 = Math.floor(g0 / Math.max(1, RS)), c1 = RS === 0 ? g.C : Math.floor((g0 + mr - 1) / RS) + 1;
          const D = windowOf(dx, dxo + i0 * CHW + c0 * HW, dxo + (i0 + mi - 1) * CHW + c1 * HW);
          const K = windowOf(cols, co + g0 * ld + i0 * PQ, co + (g0 + mr - 1) * ld + (i0 + mi) * PQ);
          gpu.dispatch(COL2IM, [K.w, D.w], [mi * (c1 - c0) * HW, ...geom(g), K.rel, ld, D.rel, c1 - c0, g0 - c0 * RS, g0 + mr - c0 * RS]);
        }
      }
    },

    // Pooling: planes of x (dx) [H·W] and of y, argmax (dy) [P·Q] in step.
    maxPoolForward: (x: GBuf, N: number, g: WindowGeometry, y: GBuf, am: GBuf): void => {
      const HW = g.H * g.W, PQ = g.P * g.Q;
      inPieces(N * g.C, Math.max(HW, PQ), 'one image plane', (p0, m) => {
        const X = windowOf(x, p0 * HW, (p0 + m) * HW), Y = windowOf(y, p0 * PQ, (p0 + m) * PQ), A = windowOf(am, p0 * PQ, (p0 + m) * PQ);
        gpu.dispatch(MAXPOOL, [X.w, Y.w, A.w], [m * PQ, ...geom(g), X.rel, Y.rel]);
      });
    },
    maxPoolBackward: (dy: GBuf, am: GBuf, N: number, g: WindowGeometry, dx: GBuf): void => {
      const HW = g.H * g.W, PQ = g.P * g.Q;
      inPieces(N * g.C, Math.max(HW, PQ), 'one image plane', (p0, m) => {
        const D = windowOf(dx, p0 * HW, (p0 + m) * HW), Y = windowOf(dy, p0 * PQ, (p0 + m) * PQ), A = windowOf(am, p0 * PQ, (p0 + m) * PQ);
        gpu.dispatch(MAXPOOL_BACK, [Y.w, A.w, D.w], [m * HW, ...geom(g), D.rel, Y.rel]);
      });
    },
    avgPoolForward: (x: GBuf, N: number, g: WindowGeometry, countPad: boolean, y: GBuf): void => {
      const HW = g.H * g.W, PQ = g.P * g.Q;
      inPieces(N * g.C, Math.max(HW, PQ), 'one image plane', (p0, m) => {
        const X = windowOf(x, p0 * HW, (p0 + m) * HW), Y = windowOf(y, p0 * PQ, (p0 + m) * PQ);
        gpu.dispatch(AVGPOOL, [X.w, Y.w], [m * PQ, ...geom(g), countPad ? 1 : 0, X.rel, Y.rel]);
      });
    },
    avgPoolBackward: (dy: GBuf, N: number, g: WindowGeometry, countPad: boolean, dx: GBuf): void => {
      const HW = g.H * g.W, PQ = g.P * g.Q;
      inPieces(N * g.C, Math.max(HW, PQ), 'one image plane', (p0, m) => {
        const D = windowOf(dx, p0 * HW, (p0 + m) * HW), Y = windowOf(dy, p0 * PQ, (p0 + m) * PQ);
        gpu.dispatch(AVGPOOL_BACK, [Y.w, D.w], [m * HW, ...geom(g), countPad ? 1 : 0, D.rel, Y.rel]);
      });
    },

    biasAdd: (x: GBuf, b: GBuf, N: number, C: number, HW: number, y: GBuf): void => {
      inPieces(N * C * HW, 1, 'one value', (e0, m) => {
        const X = windowOf(x, e0, e0 + m), Y = windowOf(y, e0, e0 + m);
        gpu.dispatch(BIAS_ADD, [X.w, b, Y.w], [m, C, HW, e0, X.rel, Y.rel]);
      });
    },
    /**
     * Pieces of images × channels × positions, in order (each after the first accumulates):
     * within one binding, and at most LOOP_STEPS values summed by one invocation.
     */
    biasBackward: (dy: GBuf, N: number, C: number, HW: number, db: GBuf, accumulate: boolean, dyo = 0): void => {
      if (C === 0) return;
      if (N * HW === 0) {
        gpu.dispatch(BIAS_BACK, [dy, db], [C, 0, HW, accumulate ? 1 : 0, 0, C, 0, 0]);
        return;
      }
      const room = limit() - WINDOW_ALIGN;
      let hc = Math.min(HW, LOOP_STEPS), m = Math.min(N, Math.max(1, Math.floor(LOOP_STEPS / HW))), cc = C;
      const size = (): number => ((m - 1) * C + cc - 1) * HW + hc;
      if (m === N && hc === HW && N * C * HW <= limit()) cc = C;
      else {
        while (size() > room) {
          if (m > 1) m = Math.ceil(m / 2);
          else if (cc > 1) cc = Math.ceil(cc / 2);
          else if (hc > 1) hc = Math.ceil(hc / 2);
          else throw tooLarge('one value', 1, limit());
        }
      }
      for (const [k0, mk] of ranges(N, m)) {
        for (const [h0, mh] of ranges(HW, hc)) {
          for (const [c0, mc] of ranges(C, cc)) {
            const D = windowOf(dy, dyo + (k0 * C + c0) * HW + h0, dyo + ((k0 + mk - 1) * C + c0 + mc - 1) * HW + h0 + mh), B = windowOf(db, c0, c0 + mc);
            gpu.dispatch(BIAS_BACK, [D.w, B.w], [mc, mk, HW, accumulate || k0 > 0 || h0 > 0 ? 1 : 0, D.rel, C, B.rel, mh]);
          }
        }
      }
    },

    /** A shader over rows of `cols` values in every binding (softmax, its backward; `extra`: costRows' out, one value per row). */
    rows: (s: Shader, bufs: GBuf[], rows: number, cols: number, params: number[], extra: GBuf | null = null): void => {
      inPieces(rows, Math.max(1, cols), 'one row', (r0, m) => {
        const W = bufs.map((b) => windowOf(b, r0 * cols, (r0 + m) * cols));
        const O = extra ? [windowOf(extra, r0, r0 + m)] : [];
        gpu.dispatch(s, [...W.map((w) => w.w), ...O.map((o) => o.w)], [m, ...params, W[0]!.rel, ...O.map((o) => o.rel)]);
      });
    },

    /** dx's windows one after another, each taking dy in ranges: every index meets its window once, in order. */
    scatterAdd: (dy: GBuf, index: GBuf, n: number, dx: GBuf): void => {
      if (n === 0) return;
      const L = limit();
      for (let d0 = 0; d0 < Math.max(1, dx.n); d0 += L) {
        const len = Math.min(L, dx.n - d0);
        inPieces(n, 1, 'one value', (k0, m) => {
          const Y = windowOf(dy, k0, k0 + m), I = windowOf(index, k0, k0 + m);
          gpu.dispatch(SCATTER_ADD, [Y.w, I.w, { g: dx, off: d0, n: Math.max(1, len) }], [1, m, Y.rel, d0, d0 + len]);
        }, LOOP_STEPS);
      }
    },

    /** Σ or max (with argmax) over axes of contiguous x, over pieces that fit one binding. */
    reduce: (s: Shader, x: GBuf, shape: readonly number[], red: readonly boolean[], out: GBuf, am: GBuf | null): void => {
      const pad = (v: number[]): number[] => [...v, ...new Array<number>(MAX_RANK - v.length).fill(0)];
      const dummy = am ?? gpu.alloc(1, true);
      for (const p of reducePieces(shape, red, limit())) {
        const nOut = p.shape.reduce((q, d, k) => q * (p.red[k] ? 1 : d), 1), R = p.shape.reduce((q, d, k) => q * (p.red[k] ? d : 1), 1);
        const X = windowOf(x, p.x0, p.x0 + p.shape.reduce((q, d) => q * d, 1)), O = windowOf(out, p.out0, p.out0 + nOut);
        const A = am ? windowOf(am, p.out0, p.out0 + nOut).w : dummy;
        gpu.dispatch(s, [X.w, O.w, A], [nOut, p.shape.length, ...pad(p.shape), ...pad(p.red.map((f) => (f ? 1 : 0))), R, am ? 1 : 0, X.rel, O.rel, p.x0, p.accum ? 1 : 0]);
      }
      if (!am) gpu.release(dummy);
    },

    /** A binary op (a ∘ b into out, contiguous: b given) or a copy (a into the view out) over strided views. */
    strided: (s: Shader, a: DStrided, b: DStrided | null, out: DStrided | GBuf): void => {
      const views = b ? [a, b] : [a, out as DStrided];
      for (const p of stridedPieces(a.shape, views.map((v) => v.offset), views.map((v) => v.strides), limit())) {
        const W = views.map((v, k) => viewWindow(v.data, p.offsets[k]!, p.shape, p.strides[k]!));
        const n = p.shape.reduce((q, d) => q * d, 1);
        const params = stridedParams({ offset: W[0]!.rel, strides: p.strides[0]! }, { offset: W[1]!.rel, strides: p.strides[1]! }, p.shape);
        if (!b) {
          gpu.dispatch(s, W.map((w) => w.w), [n, ...params]);
          continue;
        }
        const O = windowOf(out as GBuf, p.start, p.start + n);
        gpu.dispatch(s, [...W.map((w) => w.w), O.w], [n, ...params, O.rel]);
      }
    },
  };
}

