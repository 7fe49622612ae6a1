// The gemm of the webgpu backend in WGSL, tiled in workgroup memory (the other shaders are
// in ./shaders.ts, whose prelude and declarations it shares).
import { declare, PRELUDE, RELU_OF_V, type Binding, type ParamSpec, type Shader } from './shaders.js';

/**
 * What the gemm does to each output before it stores it: add bias[row] (a convolution's b[K])
 * or, with `column`, bias[column] (a dense layer's b[nout] over y[N, nout]), then max(0, ·).
 */
export interface GemmEpilogue {
  bias: boolean;
  relu: boolean;
  column?: boolean;
}

/**
 * C = alpha·op(A)·op(B) + beta·C, tiled in workgroup memory: each workgroup of 8×8
 * invocations computes a 32×32 tile of C, 4×4 outputs per invocation (rows ty + 8r, columns
 * tx + 8c, so neighbouring invocations touch neighbouring columns), over K in slices of 16.
 * The epilogue adds bias[row] (or bias[column]) and applies the ReLU to each value before its one store, in
 * float32 as the separate biasAdd and relu shaders would (so the same bits).
 */
export function gemmShader(transA: boolean, transB: boolean, epilogue: GemmEpilogue = { bias: false, relu: false }): Shader {
  const bindings: Binding[] = [['A', 'read', 'f32'], ['B', 'read', 'f32'], ['C', 'read_write', 'f32']];
  if (epilogue.bias) bindings.push(['bias', 'read', 'f32']);
  const params: ParamSpec = [['M', 'u'], ['N', 'u'], ['K', 'u'], ['alpha', 'f'], ['beta', 'f'], ['ao', 'u'], ['lda', 'u'], ['bo', 'u'], ['ldb', 'u'], ['co', 'u'], ['ldc', 'u'],
    ['asplit', 'u'], ['abs', 'u'], ['bsplit', 'u'], ['bbs', 'u'], ['csplit', 'u'], ['cbs', 'u'], ['bio', 'u']];
  const { decls, lets } = declare(bindings, params);
  const aIndex = transA ? 'at(gk, gi, lda, asplit, abs)' : 'at(gi, gk, lda, asplit, abs)';
  const bIndex = transB ? 'at(gj, gk, ldb, bsplit, bbs)' : 'at(gk, gj, ldb, bsplit, bbs)';
  const code = `${PRELUDE}${decls}
// Element (r, c) of a stored matrix whose columns are in blocks of \`split\` (images side by side, block b at b·bs); split = 2^32 − 1: plain.
fn at(r: u32, c: u32, ld: u32, split: u32, bs: u32) -> u32 { return (c / split) * bs + r * ld + c % split; }
var<workgroup> As: array<f32, 512>;
var<workgroup> Bs: array<f32, 512>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
${lets}
  let tx = li % 8u;
  let ty = li / 8u;
  let row0 = wg.y * 32u;
  let col0 = wg.x * 32u;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < K; k0 = k0 + 16u) {
    for (var e = li; e < 512u; e = e + 64u) {
      let kk = ${transA ? 'e / 32u' : 'e % 16u'};
      let ii = ${transA ? 'e % 32u' : 'e / 16u'};
      let gi = row0 + ii;
      let gk = k0 + kk;
      var v = 0.0;
      if (gi < M && gk < K) { v = A[ao + ${aIndex}]; }
      As[kk * 32u + ii] = v;
      let kb = ${transB ? 'e % 16u' : 'e / 32u'};
      let jj = ${transB ? 'e / 16u' : 'e % 32u'};
      let gj = col0 + jj;
      let gkb = k0 + kb;
      var w = 0.0;
      if (gj < N && gkb < K) { let gk = gkb; w = B[bo + ${bIndex}]; }
      Bs[kb * 32u + jj] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var r = 0u; r < 4u; r = r + 1u) { a[r] = As[kk * 32u + ty + 8u * r]; b[r] = Bs[kk * 32u + tx + 8u * r]; }
      for (var r = 0u; r < 4u; r = r + 1u) {
        for (var c = 0u; c < 4u; c = c + 1u) { acc[r * 4u + c] = fma(a[r], b[c], acc[r * 4u + c]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r = r + 1u) {
    let gi = row0 + ty + 8u * r;
    if (gi >= M) { continue; }
    for (var c = 0u; c < 4u; c = c + 1u) {
      let gj = col0 + tx + 8u * c;
      if (gj >= N) { continue; }
      let o = co + at(gi, gj, ldc, csplit, cbs);
      var v = alpha * acc[r * 4u + c];
      if (beta != 0.0) { v = v + beta * C[o]; }
${epilogue.bias ? `      v = v + bias[bio + ${epilogue.column ? 'gj' : 'gi'}];\n` : ''}${epilogue.relu ? `      v = ${RELU_OF_V};\n` : ''}      C[o] = v;
    }
  }
}`;
  return { name: `gemm${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}${epilogue.bias ? (epilogue.column ? '+columnBias' : '+bias') : ''}${epilogue.relu ? '+relu' : ''}`, code, bindings, params, wg: 64 };
}
