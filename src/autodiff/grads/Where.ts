// y = where(c, a, b): a gets dy where c holds, b where it does not (each un-broadcast); c gets none.

import type { OpGrad } from '../rule.js';

export const Where: OpGrad = {
  grad: (g) => {
    const [c, zero] = [g.x(0), g.scalar(0, g.dt)];
    return [
      undefined,
      g.needs(1) ? g.toInput(g.op('Where', [c, g.dy0, zero]), 1) : undefined,
      g.needs(2) ? g.toInput(g.op('Where', [c, zero, g.dy0]), 2) : undefined,
    ];
  },
};
