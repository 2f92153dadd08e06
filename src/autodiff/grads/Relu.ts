// y = max(x, 0): dx = dy where x > 0 (0 at x = 0, as torch).

import type { OpGrad } from '../rule.js';

export const Relu: OpGrad = {
  grad: (g) => [g.where(g.op('Greater', [g.x(0), g.scalar(0, g.dt)]), g.dy0, g.dt)],
};
