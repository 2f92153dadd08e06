// y = a + b: each operand gets dy, summed back over the axes it was broadcast along.

import type { OpGrad } from '../rule.js';

export const Add: OpGrad = {
  grad: (g) => [0, 1].map((i) => (g.needs(i) ? g.toInput(g.dy0, i) : undefined)),
};
