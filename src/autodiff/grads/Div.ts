// y = a / b: da = dy / b, db = -dy a / b^2 = -(dy / b) y, reusing the forward output y.

import type { OpGrad } from '../rule.js';

export const Div: OpGrad = {
  grad: (g) => {
    const overB = g.op('Div', [g.dy0, g.x(1)]);
    return [
      g.needs(0) ? g.toInput(overB, 0) : undefined,
      g.needs(1) ? g.op('Neg', [g.toInput(g.mul(overB, g.y()), 1)]) : undefined,
    ];
  },
};
