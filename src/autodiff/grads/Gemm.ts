// y = alpha op(a) op(b) + beta c, op = optional transpose. Each product gradient is itself one Gemm with the
// transposes chosen so that no Transpose node is needed; c gets beta dy summed over its broadcast axes.

import { floatAttr } from '../emitter.js';
import type { OpGrad } from '../rule.js';

export const Gemm: OpGrad = {
  grad: (g) => {
    const n = g.node;
    const [ta, tb] = [n.intAttr('transA', 0), n.intAttr('transB', 0)];
    const [alpha, beta] = [n.floatAttr('alpha', 1), n.floatAttr('beta', 1)];
    const [a, b, dy] = [g.x(0), g.x(1), g.dy0];
    const gemm = (x: string, y: string, transA: number, transB: number) =>
      g.op('Gemm', [x, y], { transA, transB, ...(alpha === 1 ? {} : { alpha: floatAttr(alpha) }) });
    let da: string | undefined;
    if (g.needs(0)) da = ta === 0 ? gemm(dy, b, 0, 1 - tb) : gemm(b, dy, tb, 1);
    let db: string | undefined;
    if (g.needs(1)) db = tb === 0 ? gemm(a, dy, 1 - ta, 0) : gemm(dy, a, 1, ta);
    let dc: string | undefined;
    if (g.needs(2)) dc = g.toInput(beta === 1 ? dy : g.mul(dy, g.scalar(beta, g.dt)), 2);
    return [da, db, dc];
  },
};
