// y = cast(x): the gradient is cast back to x's float type (integer inputs get none).

import { dtypeCode } from '../../onnx/dtype.js';
import type { OpGrad } from '../rule.js';

export const Cast: OpGrad = {
  grad: (g) => {
    const to = g.dtype(g.x(0));
    return [to === g.dt ? g.dy0 : g.op('Cast', [g.dy0], { to: dtypeCode(to) })];
  },
};
