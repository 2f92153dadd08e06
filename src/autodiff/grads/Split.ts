// y_0, y_1, ... = split(x) along an axis: dx = concat of the outputs' gradients, zeros for outputs that get none.

import { normAxis } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Split: OpGrad = {
  grad: (g) => {
    const axis = normAxis(g.node.intAttr('axis', 0), g.xShape(0).length, g.node);
    const parts = g.node.outputs.map((_, i) => g.dy(i) ?? g.zeros(g.yShape(i), g.dt));
    return [parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis })];
  },
};
