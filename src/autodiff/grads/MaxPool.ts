// y = max over each window: dy goes to the element each window picked. The forward MaxPool is given its optional
// Indices output (flat positions in x, padding not counted), and dy is scattered to those positions. Windows
// that overlap can pick one element twice, so they scatter with reduction 'add' (opset 16+).

import { Node } from '../../onnx/ir.js';
import { names } from '../../onnx/naming.js';
import { unsupportedError } from '../../errors.js';
import type { OpGrad } from '../rule.js';

export const MaxPool: OpGrad = {
  grad: (g) => {
    const n = g.node;
    const kernel = n.intsAttr('kernel_shape') ?? [];
    const strides = n.intsAttr('strides') ?? kernel.map(() => 1);
    const dilations = n.intsAttr('dilations') ?? kernel.map(() => 1);
    const overlap = kernel.some((k, i) => (k - 1) * dilations[i]! + 1 > strides[i]!);
    if (overlap && g.opset < 16)
      throw unsupportedError(`node ${n.name} (MaxPool): overlapping windows need opset 16 for their gradient`);
    let indices = n.outputs[1] ?? '';
    if (indices === '') {
      indices = g.builder.namer.fresh(names.indices(g.y()));
      const withIndices = new Node({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        inputs: [...n.inputs],
        outputs: [g.y(), indices],
        attributes: n.attributes,
      });
      g.graph.removeNode(n);
      g.graph.addNode(withIndices);
    }
    const xs = g.xShape(0);
    const total = xs.reduce((p, d) => p * d, 1);
    const flat = [g.zeros([total], g.dt), g.reshape(indices, [-1]), g.reshape(g.dy0, [-1])];
    const scattered = g.op('ScatterElements', flat, overlap ? { axis: 0, reduction: 'add' } : { axis: 0 });
    return [g.reshape(scattered, xs)];
  },
};
