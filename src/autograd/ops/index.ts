// Every differentiable op. Each file keeps an op's forward and backward side by side.
import { setGraphHelpers } from '../graph.js';
import { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import type { FloatArray } from '../../kernels/backend.js';
import { add } from './elementwise.js';
import { tensor, toDtype } from './create.js';

export * from './create.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './softmax.js';
export * from './loss.js';
export * from './dropout.js';
export * from './bias.js';
export * from './linear.js';

setGraphHelpers(
  (like: Tensor, values?: FloatArray | number[] | Tensor) => {
    if (values === undefined) return tensor(new Array<number>(like.size).fill(1), like.shape, { dtype: like.dtype, backend: like.backend });
    if (values instanceof Tensor) {
      const here = values.backend === like.backend ? values.detach() : values.to(like.backend);
      return here.dtype === like.dtype ? here : toDtype(here, like.dtype);
    }
    if (values.length !== like.size) throw new ShapeError(`backward(): gradient has ${values.length} values, output ${shapeStr(like.shape)} has ${like.size}`);
    return tensor(values, like.shape, { dtype: like.dtype, backend: like.backend });
  },
  (a: Tensor, b: Tensor | number) => add(a, b),
);
