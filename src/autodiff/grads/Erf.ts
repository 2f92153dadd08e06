// y = erf(x): dx = dy (2 / sqrt(pi)) e^(-x^2). GELU exports as Div/Erf/Add/Mul, so this is GELU's core.

import type { OpGrad } from '../rule.js';

export const Erf: OpGrad = {
  grad: (g) => {
    const x = g.x(0);
    const gauss = g.op('Exp', [g.op('Neg', [g.mul(x, x)])]);
    return [g.mul(g.dy0, g.mul(gauss, g.scalar(2 / Math.sqrt(Math.PI), g.dt)))];
  },
};
