// Raising a model's default-domain opset where a rewrite needs a newer op (LayerNormalization is opset 17,
// int4/uint4 QuantizeLinear is opset 21). Every node keeps its meaning:
// - 16: RoiAlign's default coordinate_transformation_mode changed, so old RoiAligns get the old mode written out;
// - 18: ReduceMean & co. take axes as an input instead of an attribute;
// - 20: DFT takes axis as an input; GridSample renamed its modes (bilinear -> linear, bicubic -> cubic);
// - 21: GroupNormalization's scale/bias changed from per-group to per-channel: refused rather than rewritten.
// Everything else between 13 and 21 only gained types or optional inputs/attributes with the old defaults.

import { defaultOpset, type Graph, type Model, type Node } from '../ir.js';
import { Namer } from '../naming.js';
import { int64Tensor, scalarInt64 } from '../tensor.js';
import { unsupportedError } from '../../errors.js';

const SAFE_FROM = 13;
const SAFE_TO = 21;

const REDUCE_AXES_TO_INPUT = [
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceMax',
  'ReduceMean',
  'ReduceMin',
  'ReduceProd',
  'ReduceSumSquare',
];

function forEachNode(graph: Graph, f: (n: Node, g: Graph) => void): void {
  for (const n of [...graph.nodes]) {
    f(n, graph);
    for (const a of n.attributes.values()) {
      if (a.type === 'graph') forEachNode(a.value, f);
      else if (a.type === 'graphs') a.value.forEach((g) => forEachNode(g, f));
    }
  }
}

function pinRoiAlign(n: Node): void {
  if (n.opType === 'RoiAlign' && !n.attributes.has('coordinate_transformation_mode'))
    n.attributes.set('coordinate_transformation_mode', { type: 'string', value: 'output_half_pixel' });
}

function reduceAxesToInput(n: Node, g: Graph, namer: Namer): void {
  if (!REDUCE_AXES_TO_INPUT.includes(n.opType)) return;
  const axes = n.attributes.get('axes');
  if (axes === undefined) return;
  if (axes.type !== 'ints') throw unsupportedError(`node ${n.name} (${n.opType}): axes attribute is not ints`);
  const name = namer.fresh(`${n.name}__axes`);
  g.initializers.set(name, int64Tensor(name, axes.value));
  n.attributes.delete('axes');
  if (n.inputs.length < 1) throw unsupportedError(`node ${n.name} (${n.opType}) has no data input`);
  g.setNodeInput(n, 1, name);
}

function dftAxisToInput(n: Node, g: Graph, namer: Namer): void {
  if (n.opType !== 'DFT') return;
  const axis = n.intAttr('axis', 1);
  n.attributes.delete('axis');
  const name = namer.fresh(`${n.name}__axis`);
  g.initializers.set(name, scalarInt64(name, axis));
  while (n.inputs.length < 2) g.setNodeInput(n, n.inputs.length, '');
  g.setNodeInput(n, 2, name);
}

function renameGridSampleMode(n: Node): void {
  if (n.opType !== 'GridSample') return;
  const mode = n.stringAttr('mode', 'bilinear');
  const renamed = mode === 'bilinear' ? 'linear' : mode === 'bicubic' ? 'cubic' : mode;
  n.attributes.set('mode', { type: 'string', value: renamed });
}

/** Raise the default opset to `target` (at most 21) keeping every node's meaning; no-op if already there. */
export function raiseDefaultOpset(model: Model, target: number): void {
  const current = defaultOpset(model);
  if (current >= target) return;
  if (current < SAFE_FROM || target > SAFE_TO)
    throw unsupportedError(
      `cannot raise the model's opset from ${current} to ${target}: quantlens only converts opsets ${SAFE_FROM} to ${SAFE_TO}`,
      'export the model at opset 17 (torch.onnx.export(..., opset_version=17))',
    );
  const namer = new Namer(model.graph);
  forEachNode(model.graph, (n, g) => {
    if (n.domain !== '' && n.domain !== 'ai.onnx') return;
    if (current < 16) pinRoiAlign(n);
    if (current < 18 && target >= 18) reduceAxesToInput(n, g, namer);
    if (current < 20 && target >= 20) {
      dftAxisToInput(n, g, namer);
      renameGridSampleMode(n);
    }
    if (n.opType === 'GroupNormalization' && current < 21 && target >= 21)
      throw unsupportedError(
        `node ${n.name}: GroupNormalization changed meaning at opset 21; quantlens does not convert it`,
        'keep the model below opset 21 (4-bit QDQ is then emulated)',
      );
  });
  const key = model.opsetImports.has('') ? '' : 'ai.onnx';
  model.opsetImports.set(key, target);
  // IR versions the opsets need: 17 -> 8, 19/20 -> 9, 21 -> 10.
  const ir = target >= 21 ? 10n : target >= 19 ? 9n : 8n;
  if (model.irVersion < ir) model.irVersion = ir;
}
