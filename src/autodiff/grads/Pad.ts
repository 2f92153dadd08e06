// y = pad(x) with a constant: dx = pad(dy, -pads), i.e. the padding cropped away again (negative pads of the
// forward, which crop, become zero padding). Reflect/edge modes have no rule.

import { unsupportedError } from '../../errors.js';
import { normAxis, range } from '../dims.js';
import type { OpGrad } from '../rule.js';

export const Pad: OpGrad = {
  grad: (g) => {
    if (g.node.stringAttr('mode', 'constant') !== 'constant')
      throw unsupportedError(`node ${g.node.name} (Pad): only constant padding has a gradient rule`);
    const r = g.xShape(0).length;
    const given = g.opset >= 11 ? g.constInts(g.x(1)) : g.node.intsAttr('pads');
    if (given === undefined)
      throw unsupportedError(`node ${g.node.name} (Pad): pads computed at run time have no gradient rule`);
    const axesIn = g.opset >= 18 && g.x(3) !== '' ? g.constInts(g.x(3)) : range(r);
    if (axesIn === undefined) throw unsupportedError(`node ${g.node.name} (Pad): axes computed at run time`);
    const axes = axesIn.map((a) => normAxis(a, r, g.node));
    const pads = new Array<number>(2 * r).fill(0);
    axes.forEach((a, i) => {
      pads[a] = -given[i]!;
      pads[a + r] = -given[i + axes.length]!;
    });
    return [g.pad(g.dy0, pads)];
  },
};
