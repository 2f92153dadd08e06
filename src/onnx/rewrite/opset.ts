// Raising a model's default-domain opset where a rewrite needs a newer op (LayerNormalization is opset 17).
// Between opsets 13 and 17 every default-domain op keeps its meaning except one default: RoiAlign-16 changed
// coordinate_transformation_mode from output_half_pixel to half_pixel, so old RoiAligns get the old mode written
// out. Beyond 17, ReduceMean & co. move their axes to inputs (18), so bumps stop at 17. Imports the IR only.

import { defaultOpset, type Graph, type Model } from '../ir.js';
import { unsupportedError } from '../../errors.js';

const SAFE_FROM = 13;
const SAFE_TO = 17;

function pinRoiAlign(graph: Graph): void {
  for (const n of graph.nodes) {
    if (n.opType === 'RoiAlign' && n.domain === '' && !n.attributes.has('coordinate_transformation_mode'))
      n.attributes.set('coordinate_transformation_mode', { type: 'string', value: 'output_half_pixel' });
    for (const a of n.attributes.values()) {
      if (a.type === 'graph') pinRoiAlign(a.value);
      else if (a.type === 'graphs') a.value.forEach(pinRoiAlign);
    }
  }
}

/** Raise the default opset to `target` (at most 17) keeping every node's meaning; no-op if already there. */
export function raiseDefaultOpset(model: Model, target: number): void {
  const current = defaultOpset(model);
  if (current >= target) return;
  if (current < SAFE_FROM || target > SAFE_TO)
    throw unsupportedError(
      `cannot raise the model's opset from ${current} to ${target}: quantlens only converts opsets ${SAFE_FROM} to ${SAFE_TO}`,
      'export the model at opset 17 (torch.onnx.export(..., opset_version=17))',
    );
  if (current < 16) pinRoiAlign(model.graph);
  const key = model.opsetImports.has('') ? '' : 'ai.onnx';
  model.opsetImports.set(key, target);
  // Opset 17 needs IR version 8.
  if (model.irVersion < 8n) model.irVersion = 8n;
}
