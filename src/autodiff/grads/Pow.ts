// y = a^p: da = dy p a^(p-1) (p = 2 and p = 1 without a Pow), dp = dy y ln a (for a > 0; the log quantizer's 2^e).

import type { OpGrad } from '../rule.js';

export const Pow: OpGrad = {
  grad: (g) => {
    const [a, p] = [g.x(0), g.x(1)];
    let da: string | undefined;
    if (g.needs(0)) {
      const k = g.known.get(p)?.value;
      const c = k !== undefined && k.data.length === 1 ? Number(k.data[0]) : undefined;
      const slope =
        c === 2
          ? g.mul(a, g.scalar(2, g.dt))
          : c === 1
            ? undefined
            : c !== undefined
              ? g.mul(g.op('Pow', [a, g.scalar(c - 1, g.dt)]), g.scalar(c, g.dt))
              : g.mul(g.op('Pow', [a, g.op('Sub', [p, g.scalar(1, g.dtype(p))])]), p);
      da = g.toInput(slope === undefined ? g.dy0 : g.mul(g.dy0, slope), 0);
    }
    const dp = g.needs(1) ? g.toInput(g.mul(g.dy0, g.mul(g.y(), g.op('Log', [a]))), 1) : undefined;
    return [da, dp];
  },
};
