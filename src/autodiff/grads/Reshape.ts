// Reshape only changes the shape: dx is dy reshaped to x's (concrete) shape.

import type { OpGrad } from '../rule.js';

export const Reshape: OpGrad = {
  grad: (g) => [g.reshape(g.dy0, g.xShape(0))],
};
