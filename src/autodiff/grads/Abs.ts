// y = |x|: dx = dy sign(x) (0 at x = 0, as torch). AdaRound's regularizer uses |2h - 1|^beta.

import type { OpGrad } from '../rule.js';

export const Abs: OpGrad = {
  grad: (g) => [g.mul(g.dy0, g.op('Sign', [g.x(0)]))],
};
