// Nearest-neighbour upsampling by integer factors (the UNet's 2x upsample): each input pixel fed a block of
// f_0 x f_1 x ... outputs, so dx sums dy over those blocks (Reshape to interleaved [d, f] pairs, ReduceSum the f
// axes). Only the coordinate modes where output i reads input floor(i / f) are accepted.

import { unsupportedError } from '../../errors.js';
import { range } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Resize: OpGrad = {
  grad: (g) => {
    const n = g.node;
    const ctm = n.stringAttr('coordinate_transformation_mode', 'half_pixel');
    const nearest = n.stringAttr('nearest_mode', 'round_prefer_floor');
    const blockwise =
      (ctm === 'asymmetric' && nearest === 'floor') ||
      ((ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') && nearest.startsWith('round_prefer'));
    const [xs, ys] = [g.xShape(0), g.yShape()];
    const factors = ys.map((d, i) => d / xs[i]!);
    if (n.stringAttr('mode', 'nearest') !== 'nearest' || !blockwise || factors.some((f) => !Number.isInteger(f)))
      throw unsupportedError(
        `node ${n.name} (Resize): only nearest upsampling by integer factors has a gradient rule`,
        `mode ${n.stringAttr('mode', 'nearest')}, ${ctm}/${nearest}, factors ${factors.join('x')}`,
      );
    if (factors.every((f) => f === 1)) return [g.dy0];
    const split = g.reshape(
      g.dy0,
      xs.flatMap((d, i) => [d, factors[i]!]),
    );
    const summed = g.reduce(
      'ReduceSum',
      split,
      range(xs.length).map((i) => 2 * i + 1),
      false,
    );
    return [summed];
  },
};
