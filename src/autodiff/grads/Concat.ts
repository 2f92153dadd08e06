// y = concat(x_0, x_1, ...) along an axis: each input that needs one gets its slice of dy.

import { normAxis } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Concat: OpGrad = {
  grad: (g) => {
    const axis = normAxis(g.node.intAttr('axis', 0), g.yShape().length, g.node);
    let offset = 0;
    return g.node.inputs.map((_, i) => {
      const len = g.xShape(i)[axis]!;
      const start = offset;
      offset += len;
      if (!g.needs(i)) return undefined;
      return g.op('Slice', [g.dy0, g.ints([start]), g.ints([start + len]), g.ints([axis])]);
    });
  },
};
