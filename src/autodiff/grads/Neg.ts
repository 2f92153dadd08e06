// y = -x: dx = -dy.

import type { OpGrad } from '../rule.js';

export const Neg: OpGrad = {
  grad: (g) => [g.op('Neg', [g.dy0])],
};
