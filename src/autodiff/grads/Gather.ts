// y = gather(x, indices) along an axis, with constant indices: a scalar index (the cls token, q/k/v out of the
// fused qkv) puts dy back with one Pad; an index tensor multiplies dy by a one-hot matrix, which also sums the
// gradients of repeated indices.

import { unsupportedError } from '../../errors.js';
import { normAxis } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Gather: OpGrad = {
  grad: (g) => {
    const xs = g.xShape(0);
    const r = xs.length;
    const axis = normAxis(g.node.intAttr('axis', 0), r, g.node);
    const idx = g.constInts(g.x(1));
    if (idx === undefined)
      throw unsupportedError(`node ${g.node.name} (Gather): indices computed at run time have no gradient rule`);
    const n = xs[axis]!;
    const norm = idx.map((i) => (i < 0 ? i + n : i));
    if (g.xShape(1).length === 0) {
      const pads = new Array<number>(2 * r).fill(0);
      pads[axis] = norm[0]!;
      pads[axis + r] = n - 1 - norm[0]!;
      return [g.pad(g.unsqueeze(g.dy0, [axis]), pads), undefined];
    }
    const prod = (d: number[]) => d.reduce((p, v) => p * v, 1);
    const k = norm.length;
    const oneHot = new Array<number>(n * k).fill(0);
    norm.forEach((i, j) => (oneHot[i * k + j] = 1));
    const d3 = g.reshape(g.dy0, [prod(xs.slice(0, axis)), k, prod(xs.slice(axis + 1))]);
    const back = g.op('MatMul', [g.tensor(oneHot, [n, k], g.dt), d3]);
    return [g.reshape(back, xs), undefined];
  },
};
