// y = transpose(x, perm): dx = transpose(dy, inverse perm).

import { range } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Transpose: OpGrad = {
  grad: (g) => {
    const rank = g.xShape(0).length;
    const perm = g.node.intsAttr('perm') ?? range(rank).reverse();
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [g.transpose(g.dy0, inverse)];
  },
};
