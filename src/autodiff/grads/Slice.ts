// y = x[starts:ends:steps] on some axes: dy is placed back where it came from, zeros elsewhere. Per sliced axis a
// negative step is undone by reversing dy, a step s > 1 by interleaving s - 1 zeros after each element (Unsqueeze,
// Pad, Reshape), and the offset by one Pad whose negative end pads crop what overshoots (Swin's patch merging
// takes every second row and column).

import { unsupportedError } from '../../errors.js';
import { sliceAxes } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Slice: OpGrad = {
  grad: (g) => {
    const xs = g.xShape(0);
    const r = xs.length;
    const input = (i: number) => {
      if (g.x(i) === '') return undefined;
      const v = g.constInts(g.x(i));
      if (v === undefined)
        throw unsupportedError(`node ${g.node.name} (Slice): bounds computed at run time have no gradient rule`);
      return v;
    };
    const spec = sliceAxes(xs, input(1)!, input(2)!, input(3), input(4));
    if (spec.some((a) => a.count === 0)) return [g.zeros(xs, g.dt)];
    let d = g.dy0;
    const dims = g.yShape();
    const pads = new Array<number>(2 * r).fill(0);
    for (const { axis, start, step, count } of spec) {
      let first = start;
      let stride = step;
      if (step < 0) {
        d = g.op('Slice', [d, g.ints([-1]), g.ints([-(count + 1)]), g.ints([axis]), g.ints([-1])]);
        first = start + (count - 1) * step;
        stride = -step;
      }
      if (stride > 1) {
        const p = new Array<number>(2 * (r + 1)).fill(0);
        p[axis + 1 + r + 1] = stride - 1;
        dims[axis] = count * stride;
        d = g.reshape(g.pad(g.unsqueeze(d, [axis + 1]), p), dims);
      }
      pads[axis] = first;
      pads[axis + r] = xs[axis]! - first - dims[axis]!;
    }
    return [g.pad(d, pads)];
  },
};
