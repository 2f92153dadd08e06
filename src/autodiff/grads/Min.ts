// y = min(a, b) (two inputs): dy goes to a where a is the min (ties to a), to b elsewhere; each un-broadcast.

import { unsupportedError } from '../../errors.js';
import type { OpGrad } from '../rule.js';

export const Min: OpGrad = {
  grad: (g) => {
    if (g.node.inputs.length !== 2)
      throw unsupportedError(`node ${g.node.name} (Min): gradients of Min need exactly two inputs`);
    const first = g.op('LessOrEqual', [g.x(0), g.x(1)]);
    const zero = g.scalar(0, g.dt);
    return [
      g.needs(0) ? g.toInput(g.op('Where', [first, g.dy0, zero]), 0) : undefined,
      g.needs(1) ? g.toInput(g.op('Where', [first, zero, g.dy0]), 1) : undefined,
    ];
  },
};
