// y = sqrt(x): dx = dy / (2 y), from the forward output.

import type { OpGrad } from '../rule.js';

export const Sqrt: OpGrad = {
  grad: (g) => [g.op('Div', [g.mul(g.dy0, g.scalar(0.5, g.dt)), g.y()])],
};
