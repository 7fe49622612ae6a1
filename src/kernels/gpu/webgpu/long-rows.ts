// Softmax, its backward and costRows over rows of any length. The one-dispatch shaders of
// ./shaders.ts loop over a whole row in one invocation (softmax three times), and Mesa's
// llvmpipe stops a shader's loops after 65535 iterations in all without an error
// (./windows.ts, LOOP_STEPS): a row of tens of thousands of classes would come out wrong.
// Rows whose loops stay within LOOP_STEPS, and that fit one binding, keep that one dispatch;
// longer rows run in chunks of columns: the row statistics (softmax: max, then Σ exp(x − max);
// its backward: Σ dy·y or Σ dy; a cost: Σ of its terms) are summed chunk after chunk into a
// small per-row buffer, then each element is normalised on its own (no loop).
import type { CostName } from '../../backend.js';
import { WINDOW_ALIGN, type GBuf, type Gpu } from './device.js';
import { COST_F, costRowsShader, elementwise, softmaxBackShader, softmaxShader, type Binding, type ParamSpec, type Shader } from './shaders.js';
import { LOOP_STEPS, ranges, unitsPerPiece, windowOf } from './windows.js';

// A chunk of m rows × len columns: row k's columns from xo + k·cols in the row bindings (n = m);
// the per-row values at so + k (so + 2k for softmax's max, so + 2k + 1 its sum); accum = 1 goes
// on from the chunks before.
const CHUNK: ParamSpec = [['cols', 'u'], ['len', 'u'], ['xo', 'u'], ['so', 'u'], ['accum', 'u']];

/** One invocation per row of the chunk: s = the row's statistic over the chunk's columns, then `end` stores it. */
const rowPass = (name: string, bindings: Binding[], init: string, step: string, end: string): Shader =>
  elementwise(name, bindings, CHUNK, `
  let base = xo + i * cols;
  ${init}
  for (var j = 0u; j < len; j = j + 1u) { let e = base + j; ${step} }
  ${end}`);

/** softmax pass 1: st[2k] = the row's max. */
const SOFTMAX_MAX = rowPass('softmaxRows-max', [['x', 'read', 'f32'], ['st', 'read_write', 'f32']],
  'var s = x[base];', 's = max(s, x[e]);', 'if (accum != 0u) { s = max(st[so + 2u * i], s); }\n  st[so + 2u * i] = s;');
/** softmax pass 2: st[2k + 1] = Σ exp(x − max). */
const SOFTMAX_SUM = rowPass('softmaxRows-sum', [['x', 'read', 'f32'], ['st', 'read_write', 'f32']],
  'let m = st[so + 2u * i]; var s = 0.0;', 's = s + exp(x[e] - m);', 'if (accum != 0u) { s = s + st[so + 2u * i + 1u]; }\n  st[so + 2u * i + 1u] = s;');
/** softmax backward pass 1: d[k] = Σ dy·y (log-softmax: Σ dy). */
const dotShader = (log: boolean): Shader => rowPass(`softmaxBackwardRows-dot${log ? '-log' : ''}`, [['y', 'read', 'f32'], ['dy', 'read', 'f32'], ['d', 'read_write', 'f32']],
  'var s = 0.0;', `s = s + dy[e]${log ? '' : ' * y[e]'};`, 'if (accum != 0u) { s = s + d[so + i]; }\n  d[so + i] = s;');
/** costRows: out[k] = Σ of the cost's terms (out bound as the rows' window, from so). */
const costShader = (cost: CostName): Shader => rowPass(`costRowsLong-${cost}`, [['y', 'read', 'f32'], ['tt', 'read', 'f32'], ['out', 'read_write', 'f32']],
  'var s = 0.0;', `let v = y[e]; let t = tt[e]; s = s + ${COST_F[cost]};`, 'if (accum != 0u) { s = s + out[so + i]; }\n  out[so + i] = s;');

/** One invocation per element of the chunk (n = m·len): element (k, j) at xo + k·cols + j, its row's values from so. */
const perElement = (name: string, bindings: Binding[], body: string): Shader =>
  elementwise(name, bindings, CHUNK, `
  let k = i / len; let e = xo + k * cols + i % len;
${body}`);
const normShader = (log: boolean): Shader => perElement(`softmaxRows-norm${log ? '-log' : ''}`, [['x', 'read', 'f32'], ['st', 'read', 'f32'], ['y', 'read_write', 'f32']], `
  let m = st[so + 2u * k]; let s = st[so + 2u * k + 1u];
  ${log ? 'y[e] = x[e] - m - log(s);' : 'y[e] = exp(x[e] - m) / s;'}`);
const gradShader = (log: boolean): Shader => perElement(`softmaxBackwardRows-dx${log ? '-log' : ''}`, [['y', 'read', 'f32'], ['dy', 'read', 'f32'], ['d', 'read', 'f32'], ['dx', 'read_write', 'f32']], `
  let dot = d[so + k];
  ${log ? 'dx[e] = dy[e] - exp(y[e]) * dot;' : 'dx[e] = y[e] * (dy[e] - dot);'}`);

/**
 * Pieces of m rows of `cols` values (as many rows as fit one binding of `limit` elements, at
 * least one), each in chunks of at most LOOP_STEPS columns: chunk [lo, len) binds the row
 * elements lo .. lo + (m − 1)·cols + len, within the binding.
 */
export function rowChunks(rows: number, cols: number, limit: number): { r0: number; m: number; chunks: [number, number][] }[] {
  const room = limit - WINDOW_ALIGN;
  const m = Math.max(1, Math.min(rows, Math.floor(room / cols)));
  const len = Math.min(cols, LOOP_STEPS, room);
  return ranges(rows, m).map(([r0, mr]) => ({ r0, m: mr, chunks: ranges(cols, len).map(([c0, l]): [number, number] => [r0 * cols + c0, l]) }));
}

/** Runs `short` (the one-dispatch shader over pieces of whole rows) or the chunked passes. */
type ShortRows = (s: Shader, bufs: GBuf[], rows: number, cols: number, params: number[], extra?: GBuf | null) => void;

export function longRowKernels(gpu: Gpu, shader: (key: string, make: () => Shader) => Shader, short: ShortRows) {
  /** Whether rows of `cols` values go through the one-dispatch shader that loops `passes` times over a row. */
  const isShort = (rows: number, cols: number, passes: number): boolean =>
    passes * cols <= LOOP_STEPS && unitsPerPiece(rows, Math.max(1, cols), gpu.maxBindingElements) >= 1;
  const pieces = (rows: number, cols: number, f: (r0: number, m: number, chunks: [number, number][]) => void): void => {
    for (const p of rowChunks(rows, cols, gpu.maxBindingElements)) f(p.r0, p.m, p.chunks);
  };
  /** One dispatch of `s` over a chunk: the row buffers' windows and `tail` (the per-row values, a window from tail.off). */
  const run = (s: Shader, bufs: GBuf[], cols: number, m: number, lo: number, len: number, tail: { w: GBuf; off: number; n: number }, accum: boolean, perElem: boolean): void => {
    const W = bufs.map((b) => windowOf(b, lo, lo + (m - 1) * cols + len));
    const T = windowOf(tail.w, tail.off, tail.off + tail.n);
    const ws = W.map((w) => w.w);
    // a row pass writes the per-row values (bound last); a per-element pass reads them before the output
    const order = perElem ? [...ws.slice(0, -1), T.w, ws[ws.length - 1]!] : [...ws, T.w];
    gpu.dispatch(s, order, [perElem ? m * len : m, cols, len, W[0]!.rel, T.rel, accum ? 1 : 0]);
  };

  return {
    softmax: (x: GBuf, rows: number, cols: number, log: boolean, y: GBuf): void => {
      if (isShort(rows, cols, 3)) return short(shader(`sm${log}`, () => softmaxShader(log)), [x, y], rows, cols, [cols]);
      const norm = shader(`smn${log}`, () => normShader(log));
      pieces(rows, cols, (_r0, m, chunks) => {
        const st = gpu.alloc(2 * m, false), tail = { w: st, off: 0, n: 2 * m };
        chunks.forEach(([lo, len], c) => run(SOFTMAX_MAX, [x], cols, m, lo, len, tail, c > 0, false));
        chunks.forEach(([lo, len], c) => run(SOFTMAX_SUM, [x], cols, m, lo, len, tail, c > 0, false));
        for (const [lo, len] of chunks) run(norm, [x, y], cols, m, lo, len, tail, false, true);
        gpu.release(st);
      });
    },
    softmaxBackward: (y: GBuf, dy: GBuf, rows: number, cols: number, log: boolean, dx: GBuf): void => {
      if (isShort(rows, cols, 2)) return short(shader(`smb${log}`, () => softmaxBackShader(log)), [y, dy, dx], rows, cols, [cols]);
      const dot = shader(`smbd${log}`, () => dotShader(log)), grad = shader(`smbg${log}`, () => gradShader(log));
      pieces(rows, cols, (_r0, m, chunks) => {
        const d = gpu.alloc(m, false), tail = { w: d, off: 0, n: m };
        chunks.forEach(([lo, len], c) => run(dot, [y, dy], cols, m, lo, len, tail, c > 0, false));
        for (const [lo, len] of chunks) run(grad, [y, dy, dx], cols, m, lo, len, tail, false, true);
        gpu.release(d);
      });
    },
    costRows: (cost: CostName, y: GBuf, t: GBuf, rows: number, K: number, out: GBuf): void => {
      if (isShort(rows, K, 1)) return short(shader(`cr${cost}`, () => costRowsShader(cost)), [y, t], rows, K, [K], out);
      const s = shader(`crl${cost}`, () => costShader(cost));
      pieces(rows, K, (r0, m, chunks) => {
        chunks.forEach(([lo, len], c) => run(s, [y, t], K, m, lo, len, { w: out, off: r0, n: m }, c > 0, false));
      });
    },
  };
}
