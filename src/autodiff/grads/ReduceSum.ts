// y = sum of x over axes: dx = dy broadcast back over the reduced axes.

import type { OpGrad } from '../rule.js';
import { reducedAxes, spread } from './reduce-axes.js';

export const ReduceSum: OpGrad = {
  grad: (g) => {
    const axes = reducedAxes(g, 13);
    return [axes === undefined ? g.dy0 : spread(g, axes, 1)];
  },
};
