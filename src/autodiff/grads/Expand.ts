// y = expand(x, shape): dx = dy summed back over the broadcast axes.

import type { OpGrad } from '../rule.js';

export const Expand: OpGrad = {
  grad: (g) => [g.toInput(g.dy0, 0)],
};
