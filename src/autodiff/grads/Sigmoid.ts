// y = 1 / (1 + e^-x): dx = dy y (1 - y), from the forward output.

import type { OpGrad } from '../rule.js';

export const Sigmoid: OpGrad = {
  grad: (g) => [g.mul(g.dy0, g.mul(g.y(), g.op('Sub', [g.scalar(1, g.dt), g.y()])))],
};
