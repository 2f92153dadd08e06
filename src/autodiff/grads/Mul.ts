// y = a * b: da = dy * b, db = dy * a (each un-broadcast). A square Mul(x, x) (the LayerNorm variance, the MSE
// loss) gets its whole gradient 2 x dy through input 0, in two ops instead of three.

import type { OpGrad } from '../rule.js';

export const Mul: OpGrad = {
  grad: (g) => {
    if (g.x(0) === g.x(1)) return [g.mul(g.mul(g.dy0, g.x(0)), g.scalar(2, g.dt)), undefined];
    return [
      g.needs(0) ? g.toInput(g.mul(g.dy0, g.x(1)), 0) : undefined,
      g.needs(1) ? g.toInput(g.mul(g.dy0, g.x(0)), 1) : undefined,
    ];
  },
};
