// LayerNormalization (opset 17) decomposes into the primitive ops of the opset-13 export, whose rules then
// apply and whose intermediate values the backward pass reuses: mean, x - mean, variance, sqrt(var + eps),
// normalized x, scale, bias. The optional Mean/InvStdDev outputs are kept (as float32, the stash type).

import { dtypeCode } from '../../onnx/dtype.js';
import { normAxis, range } from '../dims.js';
import type { Emitter } from '../emitter.js';
import type { OpGrad } from '../rule.js';

/** (x - mean) / sqrt(var + eps) over `axes`; returns [normalized, mean, std]. */
export function normalize(e: Emitter, x: string, axes: number[], eps: number): [string, string, string] {
  const dt = e.dtype(x);
  const mean = e.reduce('ReduceMean', x, axes, true);
  const d = e.op('Sub', [x, mean]);
  const variance = e.reduce('ReduceMean', e.mul(d, d), axes, true);
  const std = e.op('Sqrt', [e.op('Add', [variance, e.scalar(eps, dt)])]);
  return [e.op('Div', [d, std]), mean, std];
}

export const LayerNormalization: OpGrad = {
  decompose: (e, node) => {
    const [x, scale, bias] = [node.inputs[0]!, node.inputs[1]!, node.inputs[2] ?? ''];
    const [y, meanOut, invStdOut] = [node.outputs[0]!, node.outputs[1] ?? '', node.outputs[2] ?? ''];
    const rank = e.shape(x).length;
    const axes = range(rank, normAxis(node.intAttr('axis', -1), rank, node));
    const [xhat, mean, std] = normalize(e, x, axes, node.floatAttr('epsilon', 1e-5));
    if (bias === '') e.op('Mul', [xhat, scale], {}, y);
    else e.op('Add', [e.mul(xhat, scale), bias], {}, y);
    const stash = { to: dtypeCode('float32') };
    if (meanOut !== '') e.op('Cast', [mean], stash, meanOut);
    if (invStdOut !== '') e.op('Cast', [e.op('Reciprocal', [std])], stash, invStdOut);
  },
};
