// A gemm over operands larger than one storage binding (maxStorageBufferBindingSize: 128 MiB
// guaranteed; fc6 of VGG-16 at 224² holds 411 MB of weights) runs as gemms over blocks of
// it, each binding only the part of A, B and C its block reads and writes. The blocks halve
// the dimension (M, N or K) that shrinks the largest binding most, until every binding fits.
// A block of K sums into C: the first with the caller's beta, the next ones with beta = 1,
// and the epilogue (bias, ReLU) only on the last. A dimension is cut only where the cut is
// a plain shift of the operands' offsets: at a multiple of the block width of an operand
// whose columns are in blocks (images side by side, ./kernels.ts).

/** One operand as stored: offset, leading dimension, column blocks [split, block stride] (split = NO_SPLIT: plain). */
export interface Operand {
  off: number;
  ld: number;
  split: number;
  bs: number;
}

/** A gemm problem's ranges: rows i0..i1 of C, columns j0..j1, the sum over k0..k1. */
export interface Block {
  i0: number; i1: number;
  j0: number; j1: number;
  k0: number; k1: number;
}

/** How one block runs: its ranges, whether it keeps the caller's beta (else 1) and runs the epilogue. */
export interface Part extends Block {
  firstK: boolean;
  lastK: boolean;
}

export const NO_SPLIT = 0xffffffff;

/** Index of stored element (r, c): as the shader's at(). */
const at = (o: Operand, r: number, c: number): number => (o.split === NO_SPLIT ? r * o.ld + c : Math.floor(c / o.split) * o.bs + r * o.ld + (c % o.split));

/** Elements [lo, hi] an operand's block of stored rows [r0, r1) and columns [c0, c1) touches (the index grows with r and c). */
export function touched(o: Operand, r0: number, r1: number, c0: number, c1: number): [number, number] {
  return [o.off + at(o, r0, c0), o.off + at(o, r1 - 1, c1 - 1)];
}

type Dim = 'i' | 'j' | 'k';

/** Stored (row, column) dimensions of A, B and C for the transposes. */
export function layout(tA: boolean, tB: boolean): [Dim, Dim][] {
  return [tA ? ['k', 'i'] : ['i', 'k'], tB ? ['j', 'k'] : ['k', 'j'], ['i', 'j']];
}

const range = (b: Block, d: Dim): [number, number] => (d === 'i' ? [b.i0, b.i1] : d === 'j' ? [b.j0, b.j1] : [b.k0, b.k1]);

/** Elements a window binding the block's part of each operand needs (aligned down to `align`). */
function windowSizes(ops: Operand[], dims: [Dim, Dim][], b: Block, align: number): number[] {
  return ops.map((o, x) => {
    const [r0, r1] = range(b, dims[x]![0]), [c0, c1] = range(b, dims[x]![1]);
    const [lo, hi] = touched(o, r0, r1, c0, c1);
    return hi + 1 - Math.floor(lo / align) * align;
  });
}

/**
 * The blocks, in the order they must run, for a gemm whose every binding must hold at most
 * `limit` elements. Throws when no cut brings them under (a single row longer than the limit).
 */
export function splitGemm(ops: Operand[], dims: [Dim, Dim][], whole: Block, limit: number, align: number): Part[] {
  const out: Part[] = [];
  const go = (b: Block, firstK: boolean, lastK: boolean): void => {
    const sizes = windowSizes(ops, dims, b, align);
    if (Math.max(...sizes) <= limit) {
      out.push({ ...b, firstK, lastK });
      return;
    }
    let best: { d: Dim; mid: number; size: number } | null = null;
    for (const d of ['i', 'j', 'k'] as Dim[]) {
      const [lo, hi] = range(b, d);
      let mid = lo + Math.floor((hi - lo) / 2);
      // a cut inside an operand's column blocks is not a shift: round it to a block edge
      for (let x = 0; x < ops.length; x++) if (dims[x]![1] === d && ops[x]!.split !== NO_SPLIT) mid = Math.floor(mid / ops[x]!.split) * ops[x]!.split;
      if (mid <= lo || mid >= hi) continue;
      const first = { ...b, ...(d === 'i' ? { i1: mid } : d === 'j' ? { j1: mid } : { k1: mid }) };
      const size = Math.max(...windowSizes(ops, dims, first, align));
      if (!best || size < best.size) best = { d, mid, size };
    }
    if (!best) throw new Error(`a gemm operand cannot be cut into parts of at most ${limit} values (one stored row is longer)`);
    const { d, mid } = best;
    if (d === 'k') {
      go({ ...b, k1: mid }, firstK, false);
      go({ ...b, k0: mid }, false, lastK);
    } else if (d === 'i') {
      go({ ...b, i1: mid }, firstK, lastK);
      go({ ...b, i0: mid }, firstK, lastK);
    } else {
      go({ ...b, j1: mid }, firstK, lastK);
      go({ ...b, j0: mid }, firstK, lastK);
    }
  };
  go(whole, true, true);
  return out;
}
