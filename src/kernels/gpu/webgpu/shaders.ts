// WGSL sources of the webgpu backend. Every shader binds its scalar parameters as one
// uniform buffer (binding 0: 64 32-bit words, read with pu/pi/pf) and at most three
// storage buffers (bindings 1..; compatibility adapters allow four per stage). Elementwise
// shaders run 64 invocations per workgroup over a 2-D grid of workgroups (65535 per
// dimension at most): element i = gid.x + gid.y · nwg.x · 64.
import type { BinaryOp, CostName, UnaryOp } from '../../backend.js';
import { SAFELOG_MIN } from '../../cost-terms.js';

/** One storage binding: its name, access and element type. */
export type Binding = [name: string, access: 'read' | 'read_write', type: 'f32' | 'i32'];

/** Parameter kinds in the uniform buffer, in order: u (u32), i (i32), f (f32). */
export type ParamSpec = [name: string, kind: 'u' | 'i' | 'f'][];

export interface Shader {
  readonly name: string;
  readonly code: string;
  readonly bindings: readonly Binding[];
  readonly params: ParamSpec;
  /** Invocations per workgroup (elementwise: 64). */
  readonly wg: number;
  /**
   * Every binding is read or written at element i alone (i < n, the first parameter): a call
   * over buffers larger than one binding may run in windows of them (Gpu.dispatch).
   */
  readonly pointwise?: boolean;
}

const pointwise = (s: Shader): Shader => ({ ...s, pointwise: true });

export const PARAM_WORDS = 64;

export const PRELUDE = `struct U { p: array<vec4<u32>, ${PARAM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> u: U;
fn pu(k: u32) -> u32 { return u.p[k / 4u][k % 4u]; }
fn pi(k: u32) -> i32 { return bitcast<i32>(pu(k)); }
fn pf(k: u32) -> f32 { return bitcast<f32>(pu(k)); }
`;

export function declare(bindings: readonly Binding[], params: ParamSpec): { decls: string; lets: string } {
  const decls = bindings.map(([n, a, t], i) => `@group(0) @binding(${i + 1}) var<storage, ${a}> ${n}: array<${t}>;`).join('\n');
  const lets = params.map(([n, k], i) => `  let ${n} = ${k === 'u' ? 'pu' : k === 'i' ? 'pi' : 'pf'}(${i}u);`).join('\n');
  return { decls, lets };
}

/** A shader run once per element i < n (n is always the first parameter). */
export function elementwise(name: string, bindings: Binding[], params: ParamSpec, body: string, helpers = ''): Shader {
  const all: ParamSpec = [['n', 'u'], ...params];
  const { decls, lets } = declare(bindings, all);
  const code = `${PRELUDE}${decls}
${helpers}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
${lets}
  if (i >= n) { return; }
${body}
}`;
  return { name, code, bindings, params: all, wg: 64 };
}

// ---- Convolution helpers, pooling, bias -----------------------------------------------------------

const GEOM: ParamSpec = [['C', 'u'], ['H', 'u'], ['W', 'u'], ['R', 'u'], ['S', 'u'], ['sh', 'u'], ['sw', 'u'], ['ph', 'u'], ['pw', 'u'], ['dh', 'u'], ['dw', 'u'], ['P', 'u'], ['Q', 'u']];

/**
 * cols[co + row·ld + j] for row = (c, r, s), j = (p, q): the patch value or 0 in the padding.
 * A piece of a larger call (./split-kernels.ts) writes rows from g0 of channel 0 (x from xo
 * is that channel): local row k is row g0 + k.
 */
export const IM2COL = elementwise('im2col', [['x', 'read', 'f32'], ['cols', 'read_write', 'f32']], [...GEOM, ['xo', 'u'], ['co', 'u'], ['ld', 'u'], ['nb', 'u'], ['g0', 'u']], `
  // nb images side by side: column jj of a row is image jj / PQ, position jj % PQ.
  let PQ = P * Q;
  let row = i / (nb * PQ); let jj = i % (nb * PQ);
  let img = jj / PQ; let j = jj % PQ;
  let c = (g0 + row) / (R * S); let rs = (g0 + row) % (R * S);
  let r = rs / S; let s = rs % S;
  let p = j / Q; let q = j % Q;
  let h = i32(p * sh + r * dh) - i32(ph);
  let w = i32(q * sw + s * dw) - i32(pw);
  var v = 0.0;
  if (h >= 0 && h < i32(H) && w >= 0 && w < i32(W)) { v = x[xo + img * C * H * W + (c * H + u32(h)) * W + u32(w)]; }
  cols[co + row * ld + jj] = v;`);

/**
 * dx[dxo + (img, c, h, w)] += Σ over the (r, s, p, q) that read it of cols (the adjoint of
 * im2col, as a gather); images side by side in cols as IM2COL lays them. A piece of a larger
 * call (./split-kernels.ts) covers cc channels of each image (images C·H·W apart) and only
 * the rows [g0, g1) counted from its first channel's row 0, with cols from row g0.
 */
export const COL2IM = elementwise('col2im', [['cols', 'read', 'f32'], ['dx', 'read_write', 'f32']], [...GEOM, ['co', 'u'], ['ld', 'u'], ['dxo', 'u'], ['cc', 'u'], ['g0', 'u'], ['g1', 'u']], `
  let img = i / (cc * H * W);
  let c = (i / (H * W)) % cc; let hw = i % (H * W);
  let o = dxo + img * C * H * W + c * H * W + hw;
  let h = i32(hw / W); let w = i32(hw % W);
  var acc = 0.0;
  for (var r = 0u; r < R; r = r + 1u) {
    let hp = h + i32(ph) - i32(r * dh);
    if (hp < 0 || hp % i32(sh) != 0) { continue; }
    let p = u32(hp) / sh;
    if (p >= P) { continue; }
    for (var s = 0u; s < S; s = s + 1u) {
      let wq = w + i32(pw) - i32(s * dw);
      if (wq < 0 || wq % i32(sw) != 0) { continue; }
      let q = u32(wq) / sw;
      if (q >= Q) { continue; }
      let row = (c * R + r) * S + s;
      if (row < g0 || row >= g1) { continue; }
      acc = acc + cols[co + (row - g0) * ld + img * P * Q + p * Q + q];
    }
  }
  dx[o] = dx[o] + acc;`);

// Pooling runs over planes: x (or dx) planes from xo, y, argmax (or dy) planes from yo, so a
// call may cover some planes of larger buffers (./windows.ts).

/** y[plane, p, q] = max of the window, argmax its h·W + w (−1 if all padding: y = 0). */
export const MAXPOOL = elementwise('maxPool', [['x', 'read', 'f32'], ['y', 'read_write', 'f32'], ['am', 'read_write', 'i32']], [...GEOM, ['xo', 'u'], ['yo', 'u']], `
  let PQ = P * Q;
  let plane = i / PQ; let pq = i % PQ;
  let h0 = i32(pq / Q * sh) - i32(ph); let w0 = i32(pq % Q * sw) - i32(pw);
  var best = 0.0; var arg = -1;
  for (var h = max(h0, 0); h < min(h0 + i32(R), i32(H)); h = h + 1) {
    for (var w = max(w0, 0); w < min(w0 + i32(S), i32(W)); w = w + 1) {
      let v = x[xo + plane * H * W + u32(h) * W + u32(w)];
      if (arg < 0 || !(v <= best)) { best = v; arg = h * i32(W) + w; }
    }
  }
  y[yo + i] = best;
  am[yo + i] = arg;`);

/** dx[plane, h, w] += dy of each window (in output order) whose argmax is (h, w): a gather, one invocation per element of dx. */
export const MAXPOOL_BACK = elementwise('maxPoolBackward', [['dy', 'read', 'f32'], ['am', 'read', 'i32'], ['dx', 'read_write', 'f32']], [...GEOM, ['xo', 'u'], ['yo', 'u']], `
  let plane = i / (H * W); let hw = i % (H * W);
  let hp = i32(hw / W + ph); let wq = i32(hw % W + pw);
  let pHi = min(hp / i32(sh), i32(P) - 1); let qHi = min(wq / i32(sw), i32(Q) - 1);
  let pLo = max(0, (hp - i32(R) + i32(sh)) / i32(sh)); let qLo = max(0, (wq - i32(S) + i32(sw)) / i32(sw));
  var v = dx[xo + i];
  for (var p = pLo; p <= pHi; p = p + 1) {
    for (var q = qLo; q <= qHi; q = q + 1) {
      let o = yo + (plane * P + u32(p)) * Q + u32(q);
      if (am[o] == i32(hw)) { v = v + dy[o]; }
    }
  }
  dx[xo + i] = v;`);

const WINDOW_COUNT = `fn windowCount(p: u32, q: u32, H: u32, W: u32, R: u32, S: u32, sh: u32, sw: u32, ph: u32, pw: u32, countPad: u32) -> i32 {
  let h0 = i32(p * sh) - i32(ph); let w0 = i32(q * sw) - i32(pw);
  if (countPad != 0u) { return (min(h0 + i32(R), i32(H + ph)) - h0) * (min(w0 + i32(S), i32(W + pw)) - w0); }
  return (min(h0 + i32(R), i32(H)) - max(h0, 0)) * (min(w0 + i32(S), i32(W)) - max(w0, 0));
}`;

export const AVGPOOL = elementwise('avgPool', [['x', 'read', 'f32'], ['y', 'read_write', 'f32']], [...GEOM, ['countPad', 'u'], ['xo', 'u'], ['yo', 'u']], `
  let PQ = P * Q;
  let plane = i / PQ; let pq = i % PQ;
  let p = pq / Q; let q = pq % Q;
  let h0 = i32(p * sh) - i32(ph); let w0 = i32(q * sw) - i32(pw);
  var sum = 0.0;
  for (var h = max(h0, 0); h < min(h0 + i32(R), i32(H)); h = h + 1) {
    for (var w = max(w0, 0); w < min(w0 + i32(S), i32(W)); w = w + 1) { sum = sum + x[xo + plane * H * W + u32(h) * W + u32(w)]; }
  }
  let cnt = windowCount(p, q, H, W, R, S, sh, sw, ph, pw, countPad);
  var v = 0.0;
  if (cnt > 0) { v = sum / f32(cnt); }
  y[yo + i] = v;`, WINDOW_COUNT);

/** dx[plane, h, w] += Σ over the windows holding (h, w) of dy / count (a gather). */
export const AVGPOOL_BACK = elementwise('avgPoolBackward', [['dy', 'read', 'f32'], ['dx', 'read_write', 'f32']], [...GEOM, ['countPad', 'u'], ['xo', 'u'], ['yo', 'u']], `
  let plane = i / (H * W); let hw = i % (H * W);
  let h = i32(hw / W); let w = i32(hw % W);
  var acc = 0.0;
  for (var p = 0u; p < P; p = p + 1u) {
    let h0 = i32(p * sh) - i32(ph);
    if (h < h0 || h >= h0 + i32(R)) { continue; }
    for (var q = 0u; q < Q; q = q + 1u) {
      let w0 = i32(q * sw) - i32(pw);
      if (w < w0 || w >= w0 + i32(S)) { continue; }
      let cnt = windowCount(p, q, H, W, R, S, sh, sw, ph, pw, countPad);
      if (cnt > 0) { acc = acc + dy[yo + (plane * P + p) * Q + q] / f32(cnt); }
    }
  }
  dx[xo + i] = dx[xo + i] + acc;`, WINDOW_COUNT);

/** y[yo + i] = x[xo + i] + b[channel of element e0 + i]: elements [e0, e0 + n) of [N, C, HW]. */
export const BIAS_ADD = elementwise('biasAdd', [['x', 'read', 'f32'], ['b', 'read', 'f32'], ['y', 'read_write', 'f32']], [['C', 'u'], ['HW', 'u'], ['e0', 'u'], ['xo', 'u'], ['yo', 'u']], `
  y[yo + i] = x[xo + i] + b[((e0 + i) / HW) % C];`);

/**
 * db[dbo + c] (+)= Σ over N images and m positions of dy[N, C, HW] (from dyo): one
 * invocation for each of n channels (all C and m = HW, or ranges of them in a piece of a
 * larger call).
 */
export const BIAS_BACK = elementwise('biasBackward', [['dy', 'read', 'f32'], ['db', 'read_write', 'f32']], [['N', 'u'], ['HW', 'u'], ['acc', 'u'], ['dyo', 'u'], ['C', 'u'], ['dbo', 'u'], ['m', 'u']], `
  var s = 0.0;
  for (var k = 0u; k < N; k = k + 1u) {
    let base = dyo + (k * C + i) * HW;
    for (var j = 0u; j < m; j = j + 1u) { s = s + dy[base + j]; }
  }
  if (acc != 0u) { s = s + db[dbo + i]; }
  db[dbo + i] = s;`);

// ---- Elementwise -------------------------------------------------------------------------------------

/** max(0, v) in WGSL with NaN passing through (as the reference); the gemm's epilogue uses it too. */
export const RELU_OF_V = 'select(select(v, 0.0, v <= 0.0), v, v > 0.0)';
const UNARY: Record<UnaryOp, string> = {
  neg: '-v', exp: 'exp(v)', log: 'log(v)', sqrt: 'sqrt(v)', abs: 'abs(v)',
  relu: RELU_OF_V,
  logistic: 'select(exp(v) / (1.0 + exp(v)), 1.0 / (1.0 + exp(-v)), v >= 0.0)',
  tanh: 'tanh(clamp(v, -15.0, 15.0))',
};
export const unaryShader = (op: UnaryOp): Shader =>
  pointwise(elementwise(`unary-${op}`, [['x', 'read', 'f32'], ['y', 'read_write', 'f32']], [], `  let v = x[i]; y[i] = ${UNARY[op]};`));

const UNARY_BACK: Record<UnaryOp, string> = {
  neg: '-g', exp: 'g * v', log: 'g / v', sqrt: 'g / (2.0 * v)', abs: 'select(select(0.0, -g, v < 0.0), g, v > 0.0)',
  relu: 'select(0.0, g, v > 0.0)', logistic: 'g * v * (1.0 - v)', tanh: 'g * (1.0 - v * v)',
};
export const unaryBackShader = (op: UnaryOp): Shader => pointwise(op === 'neg'
  ? elementwise('unaryBackward-neg', [['dy', 'read', 'f32'], ['dx', 'read_write', 'f32']], [], '  dx[i] = -dy[i];')
  : elementwise(`unaryBackward-${op}`, [['u0', 'read', 'f32'], ['dy', 'read', 'f32'], ['dx', 'read_write', 'f32']], [], `  let v = u0[i]; let g = dy[i]; dx[i] = ${UNARY_BACK[op]};`));

// NaN propagates from a, as in the host kernels. Tested on the bits, not with `a != a`: a
// compiler may assume floats are never NaN and fold that to false (Chromium's does).
const nanOf = (x: string): string => `((bitcast<u32>(${x}) & 0x7fffffffu) > 0x7f800000u)`;
const A_IS_NAN = nanOf('a');
const BINARY: Record<BinaryOp, string> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'a / b',
  max: `select(b, a, a >= b || ${A_IS_NAN})`, min: `select(b, a, a <= b || ${A_IS_NAN})`, ge: `select(0.0, 1.0, a >= b || ${A_IS_NAN})`,
};

/** Maximum rank of the strided views of binary and copy. */
export const MAX_RANK = 8;
// Parameters after n: rank, then shape[8], strides of the first view [8], of the second [8], their offsets.
const STRIDED: ParamSpec = [['nd', 'u'], ...Array.from({ length: 3 * MAX_RANK }, (_, k) => [`s${k}`, 'i'] as [string, 'i']), ['ao', 'u'], ['bo', 'u']];
const STRIDED_INDEX = `fn stridedIndex(t: u32, nd: u32, which: u32) -> u32 {
  var rest = t; var o = 0;
  for (var k = i32(nd) - 1; k >= 0; k = k - 1) {
    let d = u32(pi(2u + u32(k)));
    let ik = rest % d; rest = rest / d;
    o = o + i32(ik) * pi(2u + ${MAX_RANK}u * (which + 1u) + u32(k));
  }
  return u32(o);
}`;
/** out[oo + i] = a ∘ b for the i-th element of two strided views (out contiguous from oo). */
export const binaryShader = (op: BinaryOp): Shader =>
  elementwise(`binary-${op}`, [['x', 'read', 'f32'], ['z', 'read', 'f32'], ['out', 'read_write', 'f32']], [...STRIDED, ['oo', 'u']], `
  let a = x[ao + stridedIndex(i, nd, 0u)];
  let b = z[bo + stridedIndex(i, nd, 1u)];
  out[oo + i] = ${BINARY[op]};`, STRIDED_INDEX);

export const binaryScalarShader = (op: BinaryOp, reverse: boolean): Shader =>
  pointwise(elementwise(`binaryScalar-${op}`, [['x', 'read', 'f32'], ['out', 'read_write', 'f32']], [['scalar', 'f']], `
  let ${reverse ? 'b' : 'a'} = x[i]; let ${reverse ? 'a' : 'b'} = scalar;
  out[i] = ${BINARY[op]};`));

export const COPY = elementwise('copy', [['x', 'read', 'f32'], ['out', 'read_write', 'f32']], STRIDED.slice(), `
  out[bo + stridedIndex(i, nd, 1u)] = x[ao + stridedIndex(i, nd, 0u)];`, STRIDED_INDEX);

export const FILL = elementwise('fill', [['x', 'read_write', 'f32']], [['o', 'u'], ['value', 'f']], '  x[o + i] = value;');
export const FILL_INDEX = elementwise('fillIndex', [['x', 'read_write', 'i32']], [['o', 'u'], ['value', 'i']], '  x[o + i] = value;');
// ---- Reductions ------------------------------------------------------------------------------------

/**
 * out[o] = Σ or max of x over the reduced axes, visiting them in row-major order (as the
 * reference does). Parameters: rank, shape[8], reduced flags [8]; withArg = 1 also writes
 * argmax. A piece of a larger call (./split-kernels.ts) reads x from xo, writes out and
 * argmax from oo, numbers argmax from ibase, and with accum = 1 goes on from the values of
 * the pieces before it (a later maximum replaces an earlier one only when greater).
 */
export function reduceShader(op: 'sum' | 'max'): Shader {
  const params: ParamSpec = [['nd', 'u'], ...Array.from({ length: 2 * MAX_RANK }, (_, k) => [`s${k}`, 'u'] as [string, 'u']), ['R', 'u'], ['withArg', 'u'], ['xo', 'u'], ['oo', 'u'], ['ibase', 'u'], ['accum', 'u']];
  const bindings: Binding[] = [['x', 'read', 'f32'], ['out', 'read_write', 'f32'], ['am', 'read_write', 'i32']];
  const helpers = `fn dim(k: u32) -> u32 { return pu(2u + k); }
fn isRed(k: u32) -> bool { return pu(2u + ${MAX_RANK}u + k) != 0u; }`;
  return elementwise(`reduce-${op}`, bindings, params, `
  // The base index of output i (reduced axes at 0) and x's row-major strides.
  var base = 0u; var rest = i; var stride = 1u;
  var strides: array<u32, ${MAX_RANK}>;
  for (var k = i32(nd) - 1; k >= 0; k = k - 1) {
    let uk = u32(k);
    strides[uk] = stride;
    if (!isRed(uk)) { let ik = rest % dim(uk); rest = rest / dim(uk); base = base + ik * stride; }
    stride = stride * dim(uk);
  }
  var best = 0.0; var arg = -1; var s = 0.0;
  if (accum != 0u) {
    s = out[oo + i]; best = s; arg = 0;
    if (withArg != 0u) { arg = am[oo + i]; }
  }
  for (var r = 0u; r < R; r = r + 1u) {
    var rr = r; var o = base;
    for (var k = i32(nd) - 1; k >= 0; k = k - 1) {
      let uk = u32(k);
      if (isRed(uk)) { o = o + (rr % dim(uk)) * strides[uk]; rr = rr / dim(uk); }
    }
    let v = x[xo + o];
    ${op === 'sum' ? 's = s + v;' : `if (arg < 0 || v > best || (${nanOf('v')} && !${nanOf('best')})) { best = v; arg = i32(ibase + o); }`}
  }
  ${op === 'sum' ? 'out[oo + i] = s;' : 'out[oo + i] = best; if (withArg != 0u) { am[oo + i] = arg; }'}`, helpers);
}

/**
 * dx[index[k]] += dy[k] for k < m (dy and index from ko), in order, by one invocation
 * (indices may repeat); only the indices in [dlo, dhi), dx's window from dlo (a piece of a
 * larger call: dx may be bound in windows, each visited once).
 */
export const SCATTER_ADD = elementwise('scatterAdd', [['dy', 'read', 'f32'], ['idx', 'read', 'i32'], ['dx', 'read_write', 'f32']], [['m', 'u'], ['ko', 'u'], ['dlo', 'i'], ['dhi', 'i']], `
  if (i != 0u) { return; }
  for (var k = 0u; k < m; k = k + 1u) {
    let j = idx[ko + k];
    if (j >= dlo && j < dhi) { dx[u32(j - dlo)] = dx[u32(j - dlo)] + dy[ko + k]; }
  }`);
// ---- Softmax, costs, optimizer ------------------------------------------------------------------------

// Softmax and the costs run over rows (from ro in every binding; costRows' out from oo), so a
// call may cover some rows of larger buffers (./windows.ts).
export const softmaxShader = (log: boolean): Shader =>
  elementwise(`softmax${log ? '-log' : ''}`, [['x', 'read', 'f32'], ['y', 'read_write', 'f32']], [['cols', 'u'], ['ro', 'u']], `
  let base = ro + i * cols;
  var m = x[base];
  for (var j = 1u; j < cols; j = j + 1u) { m = max(m, x[base + j]); }
  var sum = 0.0;
  for (var j = 0u; j < cols; j = j + 1u) { sum = sum + exp(x[base + j] - m); }
  for (var j = 0u; j < cols; j = j + 1u) { ${log ? 'y[base + j] = x[base + j] - m - log(sum);' : 'y[base + j] = exp(x[base + j] - m) / sum;'} }`);

export const softmaxBackShader = (log: boolean): Shader =>
  elementwise(`softmaxBackward${log ? '-log' : ''}`, [['y', 'read', 'f32'], ['dy', 'read', 'f32'], ['dx', 'read_write', 'f32']], [['cols', 'u'], ['ro', 'u']], `
  let base = ro + i * cols;
  var dot = 0.0;
  for (var j = 0u; j < cols; j = j + 1u) { dot = dot + dy[base + j]${log ? '' : ' * y[base + j]'}; }
  for (var j = 0u; j < cols; j = j + 1u) { ${log ? 'dx[base + j] = dy[base + j] - exp(y[base + j]) * dot;' : 'dx[base + j] = y[base + j] * (dy[base + j] - dot);'} }`);

// safelog's floor e^−50 is below float32's normal range; as a WGSL literal it is a subnormal f32 (or 0 where flushed).
const MIN = `${SAFELOG_MIN.toExponential(9)}f`;
export const COST_F: Record<CostName, string> = {
  CrossEntropyBinary: `-t * log(max(v, ${MIN})) - (1.0 - t) * log(max(1.0 - v, ${MIN}))`,
  CrossEntropyMulti: `-t * log(max(v, ${MIN}))`,
  SumSquared: '0.5 * (v - t) * (v - t)',
};
const COST_DF: Record<CostName, string> = {
  CrossEntropyBinary: `-t * select(0.0, 1.0 / v, v > ${MIN}) + (1.0 - t) * select(0.0, 1.0 / (1.0 - v), (1.0 - v) > ${MIN})`,
  CrossEntropyMulti: `-t * select(0.0, 1.0 / v, v > ${MIN})`,
  SumSquared: 'v - t',
};
export const costRowsShader = (cost: CostName): Shader =>
  elementwise(`costRows-${cost}`, [['y', 'read', 'f32'], ['tt', 'read', 'f32'], ['out', 'read_write', 'f32']], [['K', 'u'], ['ro', 'u'], ['oo', 'u']], `
  var c = 0.0;
  for (var k = 0u; k < K; k = k + 1u) { let v = y[ro + i * K + k]; let t = tt[ro + i * K + k]; c = c + ${COST_F[cost]}; }
  out[oo + i] = c;`);
export const costGradShader = (cost: CostName): Shader =>
  pointwise(elementwise(`costGrad-${cost}`, [['y', 'read', 'f32'], ['tt', 'read', 'f32'], ['dy', 'read_write', 'f32']], [['scale', 'f']], `
  let v = y[i]; let t = tt[i];
  dy[i] = scale * (${COST_DF[cost]});`));

/**
 * neon's momentum SGD for one element (the order of src/optim/gdm.ts), in float32. mode 0:
 * lr = 0 (no gradient read), 1: μ = 0 (no velocity), 2: the full update. The stored
 * velocity is what the parameter update uses; a parameter the update leaves equal is not written.
 */
export function gdmShader(mode: 0 | 1 | 2, nesterov: boolean, gclip: boolean, pclip: boolean): Shader {
  const params: ParamSpec = [['lr', 'f'], ['scale', 'f'], ['bsz', 'f'], ['mu', 'f'], ['wd', 'f'], ['gc', 'f'], ['pc', 'f']];
  const clipG = gclip ? 'gi = clamp(gi, -gc, gc);' : '';
  const clipP = pclip ? 'next = clamp(next, -pc, pc);' : '';
  if (mode === 1) {
    return pointwise(elementwise('gdmUpdate', [['p', 'read_write', 'f32'], ['g', 'read', 'f32']], params, `
  var gi = g[i] / bsz; ${clipG}
  let pi = p[i];
  let next = -lr * scale * gi + (1.0 - lr * wd) * pi;
  if (next != pi) { p[i] = next; }`));
  }
  const bindings: Binding[] = mode === 0 ? [['p', 'read_write', 'f32'], ['v', 'read_write', 'f32']] : [['p', 'read_write', 'f32'], ['g', 'read', 'f32'], ['v', 'read_write', 'f32']];
  return pointwise(elementwise(`gdmUpdate${mode}`, bindings, params, `
  let pi = p[i];
  ${mode === 0 ? 'let gp = 0.0;' : `var gi = g[i] / bsz; ${clipG}\n  let gp = scale * gi + wd * pi;`}
  let vi = mu * v[i] - lr * gp;
  v[i] = vi;
  var next = pi + ${nesterov ? 'vi * mu - lr * gp' : 'vi'};
  ${clipP}
  if (next != pi) { p[i] = next; }`));
}
