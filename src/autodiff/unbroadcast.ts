// The one place where a gradient is reduced back to the shape of an operand that was broadcast (Add, Sub, Mul,
// Div, Pow, Where, Expand, Clip bounds, Gemm's C, MatMul batch dims): sum over the leading axes the operand lacks
// and over the axes where it has size 1, then reshape. Imports the emitter only.

import type { Emitter } from './emitter.js';
import { sameDims } from './dims.js';

/** Reduces `grad` (with dims `from`) to dims `to`, the shape that numpy-broadcasts to `from`. */
export function unbroadcast(e: Emitter, grad: string, from: readonly number[], to: readonly number[]): string {
  if (sameDims(from, to)) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  from.forEach((d, i) => {
    if (i < lead || (to[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const reduced = axes.length === 0 ? grad : e.reduce('ReduceSum', grad, axes, true);
  const after = from.map((d, i) => (axes.includes(i) ? 1 : d));
  return sameDims(after, to) ? reduced : e.reshape(reduced, to);
}
