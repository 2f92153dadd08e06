// Unsqueeze only changes the shape: dx is dy reshaped to x's (concrete) shape.

import type { OpGrad } from '../rule.js';

export const Unsqueeze: OpGrad = {
  grad: (g) => [g.reshape(g.dy0, g.xShape(0))],
};
