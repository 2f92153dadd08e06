// InstanceNormalization (the GroupNorm export: Reshape + InstanceNormalization + Reshape + Mul + Add) decomposes
// into primitive ops normalizing over the spatial axes, then scale and bias per channel.

import { range } from '../dims.js';
import type { OpGrad } from '../rule.js';
import { normalize } from './LayerNormalization.js';

export const InstanceNormalization: OpGrad = {
  decompose: (e, node) => {
    const [x, scale, bias] = [node.inputs[0]!, node.inputs[1]!, node.inputs[2]!];
    const xs = e.shape(x);
    const [xhat] = normalize(e, x, range(xs.length, 2), node.floatAttr('epsilon', 1e-5));
    const perChannel = [xs[1]!, ...xs.slice(2).map(() => 1)];
    const scaled = e.mul(xhat, e.reshape(scale, perChannel));
    e.op('Add', [scaled, e.reshape(bias, perChannel)], {}, node.outputs[0]);
  },
};
