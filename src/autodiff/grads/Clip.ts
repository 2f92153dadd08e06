// y = clip(x, lo, hi): x gets dy where lo <= x <= hi (as torch.clamp); lo gets the dy of the elements below it
// and hi of those above (LSQ-style learned bounds). Opset 11+ bounds are inputs; older ones are attributes.

import type { OpGrad } from '../rule.js';

export const Clip: OpGrad = {
  grad: (g) => {
    const x = g.x(0);
    const attr = (name: string) => {
      const a = g.node.attr(name);
      return a?.type === 'float' ? g.scalar(a.value, g.dt) : '';
    };
    const lo = g.opset >= 11 ? g.x(1) : attr('min');
    const hi = g.opset >= 11 ? g.x(2) : attr('max');
    const masks: string[] = [];
    if (lo !== '') masks.push(g.op('GreaterOrEqual', [x, lo]));
    if (hi !== '') masks.push(g.op('LessOrEqual', [x, hi]));
    const inside = masks.length === 2 ? g.op('And', masks) : masks[0];
    const bound = (i: number, cmp: string, b: string) =>
      g.needs(i) ? g.toInput(g.where(g.op(cmp, [x, b]), g.dy0, g.dt), i) : undefined;
    return [
      g.needs(0) ? (inside === undefined ? g.dy0 : g.where(inside, g.dy0, g.dt)) : undefined,
      bound(1, 'Less', lo),
      bound(2, 'Greater', hi),
    ];
  },
};
