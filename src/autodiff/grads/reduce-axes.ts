// The axes a Reduce* node reduces, from its axes input (ReduceSum from opset 13, the others from 18) or attribute.
// Shared by the ReduceSum and ReduceMean rules; not a rule itself.

import { unsupportedError } from '../../errors.js';
import { normAxis, range } from '../dims.js';
import type { GradContext } from '../rule.js';

/** Normalized reduced axes; undefined when the node is a no-op (empty axes with noop_with_empty_axes). */
export function reducedAxes(g: GradContext, inputFrom: number): number[] | undefined {
  const rank = g.xShape(0).length;
  let axes: number[] | undefined;
  if (g.opset >= inputFrom && g.x(1) !== '') {
    axes = g.constInts(g.x(1));
    if (axes === undefined)
      throw unsupportedError(`node ${g.node.name} (${g.node.opType}): axes computed at run time have no gradient rule`);
  } else if (g.opset < inputFrom) axes = g.node.intsAttr('axes');
  if (axes === undefined || axes.length === 0)
    return g.node.intAttr('noop_with_empty_axes', 0) === 1 ? undefined : range(rank);
  return axes.map((a) => normAxis(a, rank, g.node));
}

/** dy broadcast back over the reduced axes, times `scale`. */
export function spread(g: GradContext, axes: readonly number[], scale: number): string {
  const xs = g.xShape(0);
  const kept = xs.map((d, i) => (axes.includes(i) ? 1 : d));
  let d = g.reshape(g.dy0, kept);
  if (scale !== 1) d = g.mul(d, g.scalar(scale, g.dt));
  return g.op('Expand', [d, g.ints(xs)]);
}
