// The webgpu backend's softmax, its backward and costRows over rows of 70,000 classes at the
// device's own limits (each row fits one storage binding): Mesa's llvmpipe stops an
// invocation's loops after 65535 steps in all, so such rows run in chunks of columns
// (src/kernels/gpu/webgpu/long-rows.ts) and give the reference's results within 1e-4;
// rows of a few classes keep the one-dispatch shader and agree as well.
import { describe, it } from 'vitest';
import { getBackend } from '../../../src/kernels/index.js';
import { webgpuUsable } from '../../helpers/backends.js';
import { checkLongRows } from '../../helpers/long-rows.js';

describe.runIf(webgpuUsable())('webgpu softmax and costs over long rows', () => {
  it('2 rows × 70,000 columns (past 65535 loop steps per row): softmax, log-softmax, their backward and every cost equal the reference within 1e-4', () => {
    checkLongRows(getBackend('webgpu'), 2, 70_000, 1e-4);
  }, 120_000);

  it('rows just past the one-dispatch threshold (6,000 columns: softmax in chunks, its backward and costRows still in one dispatch) and short rows (10 columns)', () => {
    checkLongRows(getBackend('webgpu'), 3, 6_000, 1e-4);
    checkLongRows(getBackend('webgpu'), 50, 10, 1e-4);
  }, 120_000);
});
