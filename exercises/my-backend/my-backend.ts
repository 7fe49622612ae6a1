// Track task 11, my-backend: your work. See README.md; run `npm run exercise my-backend`.
import type { Backend } from '../../src/index.js';
import { assembleBackend, type KernelTable } from '../../src/kernels/backend.js';
import { hostKernelTable, unboxed } from '../../src/kernels/cpu/ref/index.js';
import { hostStorage } from '../../src/kernels/cpu/ref/storage.js';
import { arr, convRowsFrom, idx, linearRowFrom } from '../kit.js';
// Your kernels from tasks 3, 4, 5 and 8:
import { gemm } from '../gemm/gemm.js';
import { col2im, im2col } from '../im2col/im2col.js';
import { maxPoolBackward, maxPoolForward } from '../maxpool/maxpool.js';
import { gdmUpdate } from '../gdm-update/gdm-update.js';

/** Given: where this file is, so that the test can run the conformance suite on it in a separate process. */
export const moduleUrl = import.meta.url;

/**
 * A backend named 'mine': host typed arrays as storage (hostStorage(name, unboxed)), and a
 * kernel table whose gemm, im2col, col2im, conv2dForward, conv2dBackward, maxPoolForward,
 * maxPoolBackward and gdmUpdate rows run your kernels; the other rows may be ref's
 * (hostKernelTable(name, unboxed)).
 */
export function makeBackend(): Backend {
  const name = 'mine';
  // TODO: const rows: Partial<KernelTable> = { gemm: (tA, tB, M, N, K, alpha, A, ao, lda, ...) => gemm(..., arr(A), ...), ... };
  // then assembleBackend({ name, description, dtypes: ['float32', 'float64'] }, hostStorage(name, unboxed), { ...hostKernelTable(name, unboxed), ...rows }).
  // convRowsFrom(im2col, col2im) (exercises/kit.ts) gives the two convolution rows from your im2col;
  // linearRowFrom(gemm) the dense layer's forward from your gemm (the suite wants it to match your gemm's bits).
  const unused: unknown[] = [assembleBackend, hostKernelTable, unboxed, hostStorage, arr, idx, convRowsFrom, linearRowFrom, gemm, im2col, col2im, maxPoolForward, maxPoolBackward, gdmUpdate];
  throw new Error(`TODO: assemble backend '${name}' from your kernels (${unused.length} pieces imported; the table is a ${'KernelTable' satisfies keyof { KernelTable: KernelTable }})`);
}
