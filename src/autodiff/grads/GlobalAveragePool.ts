// y = mean of x over its spatial axes (one value per sample and channel): dx = dy / n broadcast back over them.

import type { OpGrad } from '../rule.js';

export const GlobalAveragePool: OpGrad = {
  grad: (g) => {
    const xs = g.xShape(0);
    const n = xs.slice(2).reduce((p, d) => p * d, 1);
    return [g.op('Expand', [g.mul(g.dy0, g.scalar(1 / n, g.dt)), g.ints(xs)])];
  },
};
