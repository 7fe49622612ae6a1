// Track task 11, my-backend: a reference solution, assembled from the track's reference solutions.
import type { Backend } from '../../../src/index.js';
import { assembleBackend, type KernelTable } from '../../../src/kernels/backend.js';
import { hostKernelTable, unboxed } from '../../../src/kernels/cpu/ref/index.js';
import { hostStorage } from '../../../src/kernels/cpu/ref/storage.js';
import { arr, convRowsFrom, idx, linearRowFrom } from '../../kit.js';
import { gemm } from '../../gemm/solution/gemm.js';
import { col2im, im2col } from '../../im2col/solution/im2col.js';
import { maxPoolBackward, maxPoolForward } from '../../maxpool/solution/maxpool.js';
import { gdmUpdate } from '../../gdm-update/solution/gdm-update.js';

export const moduleUrl = import.meta.url;

export function makeBackend(): Backend {
  const name = 'mine';
  // buffers are the typed arrays themselves (unboxed): arr/idx only retype them
  const rows: Partial<KernelTable> = {
    gemm: (tA, tB, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc) => gemm(tA, tB, M, N, K, alpha, arr(A), ao, lda, arr(B), bo, ldb, beta, arr(C), co, ldc),
    im2col: (x, xo, g, cols, co, ld) => im2col(arr(x), xo, g, arr(cols), co, ld),
    col2im: (cols, g, dx, dxo, co, ld) => col2im(arr(cols), g, arr(dx), dxo, co, ld),
    ...convRowsFrom(im2col, col2im),
    ...linearRowFrom(gemm),
    maxPoolForward: (x, N, g, y, a) => maxPoolForward(arr(x), N, g, arr(y), idx(a)),
    maxPoolBackward: (dy, a, N, g, dx) => maxPoolBackward(arr(dy), idx(a), N, g, arr(dx)),
    gdmUpdate: (p, g, v, n, s) => gdmUpdate(arr(p), g && arr(g), v && arr(v), n, s),
  };
  return assembleBackend(
    { name, description: 'the track\'s kernels (exercises/), ref\'s for the rest', dtypes: ['float32', 'float64'] },
    hostStorage(name, unboxed),
    { ...hostKernelTable(name, unboxed), ...rows },
  );
}
