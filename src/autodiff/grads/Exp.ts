// y = e^x: dx = dy y, from the forward output.

import type { OpGrad } from '../rule.js';

export const Exp: OpGrad = {
  grad: (g) => [g.mul(g.dy0, g.y())],
};
