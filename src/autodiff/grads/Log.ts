// y = ln x: dx = dy / x.

import type { OpGrad } from '../rule.js';

export const Log: OpGrad = {
  grad: (g) => [g.op('Div', [g.dy0, g.x(0)])],
};
