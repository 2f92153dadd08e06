// y = softmax(x) along one axis: dx = y (dy - sum(dy y)), from the forward output. Before opset 13 Softmax
// flattened the trailing axes; that form is supported only when the axis is the last one.

import { unsupportedError } from '../../errors.js';
import { normAxis } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Softmax: OpGrad = {
  grad: (g) => {
    const rank = g.yShape().length;
    const axis = normAxis(g.node.intAttr('axis', g.opset >= 13 ? -1 : 1), rank, g.node);
    if (g.opset < 13 && axis !== rank - 1)
      throw unsupportedError(
        `node ${g.node.name} (Softmax): opset ${g.opset} softmax over axes ${axis}.. has no gradient rule`,
      );
    const y = g.y();
    const dot = g.reduce('ReduceSum', g.mul(g.dy0, y), [axis], true);
    return [g.mul(y, g.op('Sub', [g.dy0, dot]))];
  },
};
