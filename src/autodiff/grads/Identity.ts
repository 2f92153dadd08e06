// y = x: dx = dy.

import type { OpGrad } from '../rule.js';

export const Identity: OpGrad = {
  grad: (g) => [g.dy0],
};
