// y = a @ b with numpy batching: da = dy @ b^T, db = a^T @ dy, each summed over the batch axes its operand was
// broadcast along. 1-D operands are promoted ([K] -> [1, K] for a, [K, 1] for b) and reshaped back. A 2-D weight
// under batched activations (every Linear of a transformer) gets its gradient from one Gemm over the flattened
// batch instead of a batched MatMul and a reduction.

import { broadcastShapes, range, sameDims } from '../dims.js';
import type { GradContext, OpGrad } from '../rule.js';
import { unbroadcast } from '../unbroadcast.js';

const swapLast = (g: GradContext, v: string, rank: number) => g.transpose(v, [...range(rank - 2), rank - 1, rank - 2]);

export const MatMul: OpGrad = {
  grad: (g) => {
    const [as, bs] = [g.xShape(0), g.xShape(1)];
    const a2 = as.length === 1 ? [1, as[0]!] : as;
    const b2 = bs.length === 1 ? [bs[0]!, 1] : bs;
    const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
    const [m, k, n] = [a2.at(-2)!, a2.at(-1)!, b2.at(-1)!];
    const reshaped = (v: string, from: readonly number[], to: readonly number[]) =>
      sameDims(from, to) ? v : g.reshape(v, to);
    const dy = reshaped(g.dy0, g.yShape(), [...batch, m, n]);
    // Sum a batched product down to the promoted operand, then undo the promotion.
    const back = (v: string, full: number[], to2: number[], to: number[]) =>
      reshaped(unbroadcast(g, v, full, to2), to2, to);
    let da: string | undefined;
    if (g.needs(0)) {
      const bT = swapLast(g, reshaped(g.x(1), bs, b2), b2.length);
      da = back(g.op('MatMul', [dy, bT]), [...batch, m, k], a2, as);
    }
    let db: string | undefined;
    if (g.needs(1)) {
      if (b2.length === 2 && a2.length > 2) {
        const flat = g.op('Gemm', [g.reshape(g.x(0), [-1, k]), g.reshape(dy, [-1, n])], { transA: 1 });
        db = reshaped(flat, b2, bs);
      } else {
        const aT = swapLast(g, reshaped(g.x(0), as, a2), a2.length);
        db = back(g.op('MatMul', [aT, dy]), [...batch, k, n], b2, bs);
      }
    }
    return [da, db];
  },
};
