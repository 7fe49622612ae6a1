// The strided Tensor: creation, views that share storage (reshape/view of contiguous
// tensors, permute, transpose, slice), contiguous copies, and forward values of
// broadcasting arithmetic, reductions and matmul against naive index arithmetic, on
// contiguous tensors and on permuted / sliced views.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add, broadcastShapes, contiguous, div, full, matmul, max, mean, mul, ones, permute, reshape, sizeOf, slice, sub, sum, tensor, Tensor,
  transpose, view, zeros,
} from '../../src/index.js';
import { withBackend } from '../../src/kernels/index.js';
import { contiguousStrides } from '../../src/tensor/shape.js';
import { broadcastPairArb, permutationArb, shapeArb, specArb, t32, t64, tensorSpecArb, type Shape } from '../helpers/arbitraries.js';
import { basePermuted, expectClose } from '../helpers/check.js';

/** Multi-index of flat row-major position i in shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return idx;
}
const ravel = (idx: readonly number[], shape: readonly number[]) => idx.reduce((p, v, k) => p * shape[k]! + v, 0);
/** Element at a multi-index of a tensor, through its strides and offset. */
const at = (t: Tensor, idx: readonly number[]) => t.backend.read(t.storage, t.offset + idx.reduce((p, v, k) => p + v * t.strides[k]!, 0), 1)[0]!;

describe('creation', () => {
  it('zeros / ones / full / tensor from flat, nested, typed and scalar data', () => {
    expect(Array.from(zeros([2, 3]).data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(ones([3]).data)).toEqual([1, 1, 1]);
    expect(Array.from(full([2], 7.5, { dtype: 'float64' }).data)).toEqual([7.5, 7.5]);
    expect(full([2], 1, { dtype: 'float64' }).dtype).toBe('float64');
    const nested = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(nested.shape).toEqual([2, 3]);
    expect(nested.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(5).shape).toEqual([]);
    expect(tensor(5).item()).toBe(5);
    const f = new Float32Array([1, 2, 3, 4]);
    // The reference backend adopts float32 data; the fast one copies it into shared memory.
    expect(withBackend('ref', () => tensor(f, [2, 2])).storage).toBe(f);
    expect(Array.from(tensor(f, [2, 2]).toHost())).toEqual([1, 2, 3, 4]);
    expect(tensor(f, [2, 2]).storage).not.toBe(f);
    expect(tensor(f, [2, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(tensor([1, 2], [2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(zeros([0, 3]).size).toBe(0);
  });

  it('contiguous strides are row-major and toArray round-trips through tensor()', () => {
    fc.assert(fc.property(tensorSpecArb(0, 4, 4), (s) => {
      const t = t64(s);
      expect(t.strides).toEqual(contiguousStrides(s.shape));
      expect(t.isContiguous()).toBe(true);
      const back = tensor(t.toArray() as number[], s.shape, { dtype: 'float64' });
      expect(Array.from(back.data)).toEqual(s.values);
    }));
  });
});

describe('views share storage', () => {
  it('reshape and view of a contiguous tensor do not copy; writes go through', () => {
    fc.assert(fc.property(tensorSpecArb(1, 4, 4), (s) => {
      const t = t32(s);
      const v = view(t, [sizeOf(s.shape)]);
      const r = reshape(t, [-1, 1]);
      expect(v.storage).toBe(t.storage);
      expect(r.storage).toBe(t.storage);
      v.data[0] = 123;
      expect(t.data[0]).toBe(123);
      expect(r.data[0]).toBe(123);
    }), { numRuns: 30 });
  });

  it('permute and transpose are views with permuted strides; element (i…) moves to the permuted index', () => {
    fc.assert(fc.property(shapeArb(1, 4, 4).chain((shape) => fc.tuple(specArb(shape), permutationArb(shape.length))), ([s, order]) => {
      const t = t64(s);
      const p = permute(t, order);
      expect(p.storage).toBe(t.storage);
      expect(p.shape).toEqual(order.map((a) => s.shape[a]));
      expect(p.strides).toEqual(order.map((a) => t.strides[a]));
      for (let i = 0; i < p.size; i++) {
        const idx = unravel(i, p.shape);
        const src = new Array<number>(order.length);
        order.forEach((a, k) => (src[a] = idx[k]!));
        expect(at(p, idx)).toBe(s.values[ravel(src, s.shape)]);
      }
      // .data of a permuted view is its row-major contents.
      expect(Array.from(p.data)).toEqual(Array.from({ length: p.size }, (_, i) => at(p, unravel(i, p.shape))));
      // contiguous() copies a non-contiguous view and returns a contiguous one unchanged.
      const c = contiguous(p);
      expect(c.isContiguous()).toBe(true);
      expect(Array.from(c.data)).toEqual(Array.from(p.data));
      if (p.isContiguous()) expect(c).toBe(p);
      else expect(c.storage).not.toBe(t.storage);
      expect(contiguous(t)).toBe(t);
      if (s.shape.length >= 2) {
        const tt = transpose(t);
        expect(tt.shape).toEqual([...s.shape.slice(0, -2), s.shape.at(-1), s.shape.at(-2)]);
        expect(Array.from(transpose(tt).data)).toEqual(s.values);
      }
    }), { numRuns: 40 });
  });

  it('slice is a view at an offset (batch slicing); reshape of a non-contiguous view copies', () => {
    fc.assert(fc.property(shapeArb(1, 4, 4).chain((shape) => fc.tuple(specArb(shape), fc.integer({ min: 0, max: shape.length - 1 }))).chain(([s, axis]) =>
      fc.tuple(fc.constant(s), fc.constant(axis), fc.integer({ min: 0, max: s.shape[axis]! }), fc.integer({ min: 0, max: s.shape[axis]! }))), ([s, axis, a, b]) => {
      const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
      const t = t64(s);
      const sl = slice(t, lo, hi, axis);
      expect(sl.storage).toBe(t.storage);
      expect(sl.shape).toEqual(s.shape.map((d, k) => (k === axis ? hi - lo : d)));
      for (let i = 0; i < sl.size; i++) {
        const idx = unravel(i, sl.shape);
        const src = idx.map((v, k) => (k === axis ? v + lo : v));
        expect(sl.data[i]).toBe(s.values[ravel(src, s.shape)]);
      }
      const flat = reshape(sl, [-1]);
      expect(Array.from(flat.data)).toEqual(Array.from(sl.data));
      if (axis === 0) expect(flat.storage).toBe(t.storage); // a batch slice stays contiguous
    }), { numRuns: 40 });
  });
});

describe('forward values against naive index arithmetic', () => {
  const naiveBinary = (f: (x: number, y: number) => number, a: { shape: Shape; values: number[] }, b: { shape: Shape; values: number[] }) => {
    const out = broadcastShapes(a.shape, b.shape, 'test');
    return Array.from({ length: sizeOf(out) }, (_, i) => {
      const idx = unravel(i, out);
      const pick = (s: Shape) => idx.slice(out.length - s.length).map((v, k) => (s[k] === 1 ? 0 : v));
      return f(a.values[ravel(pick(a.shape), a.shape)]!, b.values[ravel(pick(b.shape), b.shape)]!);
    });
  };

  it('add / sub / mul / div broadcast like numpy, on contiguous tensors and permuted views', () => {
    fc.assert(fc.property(broadcastPairArb().chain(([sa, sb]) => fc.tuple(specArb(sa), specArb(sb, 'positive'), permutationArb(sa.length), permutationArb(sb.length))), ([a, b, oa, ob]) => {
      const ops = [[add, (x: number, y: number) => x + y], [sub, (x: number, y: number) => x - y], [mul, (x: number, y: number) => x * y], [div, (x: number, y: number) => x / y]] as const;
      for (const [op, f] of ops) {
        const expected = naiveBinary(f, a, b);
        expect(op(t64(a), t64(b)).shape).toEqual(broadcastShapes(a.shape, b.shape, 'test'));
        expectClose(op(t64(a), t64(b)).data, expected, `${op.name} contiguous`, 0, 0);
        const va = permute(basePermuted(a, oa), oa), vb = permute(basePermuted(b, ob), ob);
        expectClose(op(va, vb).data, expected, `${op.name} on permuted views`, 0, 0);
      }
    }), { numRuns: 40 });
  });

  it('sum / mean / max over random axes with keepdims', () => {
    fc.assert(fc.property(shapeArb(1, 4, 4).chain((shape) => fc.tuple(specArb(shape), fc.subarray(Array.from({ length: shape.length }, (_, k) => k), { minLength: 1 }), fc.boolean(), permutationArb(shape.length))), ([s, axes, keepdims, order]) => {
      const kept = s.shape.map((d, k) => (axes.includes(k) ? 1 : d));
      const sums = new Array<number>(sizeOf(kept)).fill(0);
      const maxs = new Array<number>(sizeOf(kept)).fill(-Infinity);
      s.values.forEach((v, i) => {
        const o = ravel(unravel(i, s.shape).map((x, k) => (axes.includes(k) ? 0 : x)), kept);
        sums[o]! += v;
        maxs[o] = Math.max(maxs[o]!, v);
      });
      const count = axes.reduce((p, k) => p * s.shape[k]!, 1);
      const outShape = keepdims ? kept : s.shape.filter((_, k) => !axes.includes(k));
      // Also on a permuted view: same logical tensor, different layout.
      for (const x of [t64(s), permute(basePermuted(s, order), order)]) {
        const r = sum(x, axes, keepdims);
        expect(r.shape).toEqual(outShape);
        expectClose(r.data, sums, 'sum', 1e-12, 1e-12);
        expectClose(mean(x, axes, keepdims).data, sums.map((v) => v / count), 'mean', 1e-12, 1e-12);
        expectClose(max(x, axes, keepdims).data, maxs, 'max', 0, 0);
      }
      expect(sum(t64(s)).shape).toEqual([]);
      expect(sum(t64(s)).item()).toBeCloseTo(s.values.reduce((p, v) => p + v, 0), 10);
    }), { numRuns: 40 });
  });

  it('matmul equals the triple loop, also for transposed and sliced operands', () => {
    const d = fc.integer({ min: 1, max: 6 });
    fc.assert(fc.property(fc.tuple(d, d, d).chain(([M, K, N]) => fc.tuple(specArb([M, K]), specArb([K, N]))), ([a, b]) => {
      const [M, K] = a.shape as [number, number], N = b.shape[1]!;
      const expected = Array.from({ length: M * N }, (_, i) => {
        let s = 0;
        for (let p = 0; p < K; p++) s += a.values[Math.floor(i / N) * K + p]! * b.values[p * N + (i % N)]!;
        return s;
      });
      expectClose(matmul(t64(a), t64(b)).data, expected, 'matmul', 1e-12, 1e-12);
      // Transposed storage: aᵀ stored contiguously, then transposed back (a view).
      const aT = transpose(contiguous(transpose(t64(a)))), bT = transpose(contiguous(transpose(t64(b))));
      expectClose(matmul(aT, bT).data, expected, 'matmul of transposed views', 1e-12, 1e-12);
      // Column slices of wider matrices (leading dimension > width).
      const wideA = tensor(Float64Array.from({ length: M * (K + 2) }, (_, i) => (i % (K + 2) >= 1 && i % (K + 2) <= K ? a.values[Math.floor(i / (K + 2)) * K + (i % (K + 2)) - 1]! : NaN)), [M, K + 2], { dtype: 'float64' });
      expectClose(matmul(slice(wideA, 1, K + 1, 1), t64(b)).data, expected, 'matmul of a column slice', 1e-12, 1e-12);
    }), { numRuns: 40 });
  });
});

describe('float32 and float64', () => {
  it('ops keep the dtype; .data of float32 is a Float32Array', () => {
    const a = tensor([1, 2, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(mul(a, a).dtype).toBe('float32');
    const b = tensor([1, 2, 3], [3], { dtype: 'float64' });
    expect(add(b, b).data).toBeInstanceOf(Float64Array);
    expect(String(tensor([1, 2], [2], { requiresGrad: true }))).toBe('Tensor([2], float32, cpu, requiresGrad)');
  });
});
