// The plain TypeScript backend: every kernel single-threaded over typed arrays.
import type { Backend } from '../backend.js';
import { biasAdd, biasBackward } from './bias.js';
import { binary, binaryScalar, copy, unary, unaryBackward } from './elementwise.js';
import { gemm } from './gemm.js';
import { col2im, im2col } from './im2col.js';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './pool.js';
import { reduce } from './reduce.js';
import { softmax } from './softmax.js';

export const cpuBackend: Backend = {
  name: 'cpu',
  gemm,
  im2col,
  col2im,
  maxPoolForward,
  maxPoolBackward,
  avgPoolForward,
  avgPoolBackward,
  unary,
  unaryBackward,
  binary,
  binaryScalar,
  copy,
  reduce,
  softmax,
  biasAdd,
  biasBackward,
};
