// y = conv(x, w) + b, any spatial rank, groups, stride, padding, dilation.
// dx: ConvTranspose of dy with the same w, output_padding chosen so that it has x's exact shape.
// dw: a Conv whose batch is x's channels-per-group and whose kernel is dy (swapping the roles of stride and
// dilation): x [N, G*Cg, ...] -> [Cg, G*N, ...], dy [N, G*Mg, ...] -> [G*Mg, N, ...], Conv with group G gives
// [Cg, G*Mg, k'...], cropped to the kernel and transposed to [G*Mg, Cg, k...].
// db: dy summed over batch and space.

import { convGeometry, range } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Conv: OpGrad = {
  grad: (g) => {
    const n = g.node;
    const [xs, ws, ys] = [g.xShape(0), g.xShape(1), g.yShape()];
    const s = xs.length - 2;
    const group = n.intAttr('group', 1);
    const geo = convGeometry(n, xs.slice(2), n.intsAttr('kernel_shape') ?? ws.slice(2));
    const { strides, dilations, pads, kernel } = geo;
    let dx: string | undefined;
    if (g.needs(0)) {
      const outputPadding = range(s).map(
        (i) =>
          xs[i + 2]! -
          (strides[i]! * (ys[i + 2]! - 1) + (kernel[i]! - 1) * dilations[i]! + 1 - pads[i]! - pads[i + s]!),
      );
      dx = g.op('ConvTranspose', [g.dy0, g.x(1)], {
        strides,
        dilations,
        pads,
        group,
        kernel_shape: kernel,
        output_padding: outputPadding,
      });
    }
    let dw: string | undefined;
    if (g.needs(1)) {
      const [batch, cg] = [xs[0]!, ws[1]!];
      const sp = range(s, 0).map((i) => i + 3);
      const xg = g.reshape(g.transpose(g.reshape(g.x(0), [batch, group, cg, ...xs.slice(2)]), [2, 1, 0, ...sp]), [
        cg,
        group * batch,
        ...xs.slice(2),
      ]);
      const dyT = g.transpose(g.dy0, [1, 0, ...range(s).map((i) => i + 2)]);
      let w = g.op('Conv', [xg, dyT], { strides: dilations, dilations: strides, pads, group });
      const full = xs
        .slice(2)
        .map(
          (x, i) =>
            Math.floor((x + pads[i]! + pads[i + s]! - ((ys[i + 2]! - 1) * strides[i]! + 1)) / dilations[i]!) + 1,
        );
      if (full.some((f, i) => f !== kernel[i]))
        w = g.op('Slice', [w, g.ints(range(s).map(() => 0)), g.ints(kernel), g.ints(range(s).map((i) => i + 2))]);
      dw = g.transpose(w, [1, 0, ...range(s).map((i) => i + 2)]);
    }
    const db = g.needs(2) ? g.reduce('ReduceSum', g.dy0, [0, ...range(s).map((i) => i + 2)], false) : undefined;
    return [dx, dw, db];
  },
};
