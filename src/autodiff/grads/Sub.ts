// y = a - b: a gets dy, b gets -dy (negated after un-broadcasting, on the smaller tensor).

import type { OpGrad } from '../rule.js';

export const Sub: OpGrad = {
  grad: (g) => [
    g.needs(0) ? g.toInput(g.dy0, 0) : undefined,
    g.needs(1) ? g.op('Neg', [g.toInput(g.dy0, 1)]) : undefined,
  ],
};
