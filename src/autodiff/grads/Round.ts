// y = round(x), straight-through (DESIGN §4): the gradient passes unchanged, as torch's (v.round() - v).detach() + v
// in fake quantization. The true derivative (0 almost everywhere) would stop every quantizer's gradient.

import type { OpGrad } from '../rule.js';

export const Round: OpGrad = {
  grad: (g) => [g.dy0],
};
