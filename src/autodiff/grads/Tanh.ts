// y = tanh(x): dx = dy (1 - y^2), from the forward output.

import type { OpGrad } from '../rule.js';

export const Tanh: OpGrad = {
  grad: (g) => [g.mul(g.dy0, g.op('Sub', [g.scalar(1, g.dt), g.mul(g.y(), g.y())]))],
};
