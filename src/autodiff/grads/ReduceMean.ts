// y = mean of x over axes: dx = dy / n broadcast back over the reduced axes (n elements per mean).

import type { OpGrad } from '../rule.js';
import { reducedAxes, spread } from './reduce-axes.js';

export const ReduceMean: OpGrad = {
  grad: (g) => {
    const axes = reducedAxes(g, 18);
    if (axes === undefined) return [g.dy0];
    const n = axes.reduce((p, a) => p * g.xShape(0)[a]!, 1);
    return [spread(g, axes, 1 / n)];
  },
};
