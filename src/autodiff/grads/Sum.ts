// y = a + b + ... (variadic Sum, which the loss helper uses): each input gets dy, un-broadcast.

import type { OpGrad } from '../rule.js';

export const Sum: OpGrad = {
  grad: (g) => g.node.inputs.map((_, i) => (g.needs(i) ? g.toInput(g.dy0, i) : undefined)),
};
