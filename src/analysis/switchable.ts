// One model for every sensitivity variant. Each quantized use reads Where(switch, quantized, float), and the
// switches are boolean graph inputs, one per layer and role (weights, activations). A variant is then only a
// different feed, so a single ORT session serves "layer k alone", "everything up to layer k" and the rest:
// sessions, not runs, are what costs. With every switch on, the model computes exactly what applyFakeQuant's
// does (same quantizer ops, same folded weights). Imports the builder and fake-quant's emitters.

import { GraphBuilder } from '../onnx/builder.js';
import { cloneModel } from '../onnx/clone.js';
import type { Model } from '../onnx/ir.js';
import { names } from '../onnx/naming.js';
import { makeTensor, toFloat32 } from '../onnx/tensor.js';
import { modelError } from '../errors.js';
import { emitQuantizer } from '../quant/fake-quant.js';
import type { QuantPlan } from '../quant/plan.js';
import { fakeQuant } from '../quant/quantizers.js';
import type { HostTensor } from '../util/host-tensor.js';

export interface SwitchableLayer {
  node: string;
  opType: string;
  /** names of the boolean inputs that switch this layer's weight / activation quantizers on */
  w: string | null;
  a: string | null;
}

export interface Switchable {
  model: Model;
  /** in graph order */
  layers: SwitchableLayer[];
  switches: string[];
}

export function buildSwitchable(model: Model, plan: QuantPlan): Switchable {
  const out = cloneModel(model);
  const g = out.graph;
  const b = new GraphBuilder(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const used = new Set(plan.targets.flatMap((t) => t.uses.map((u) => u.node)));
  const layers = new Map<string, SwitchableLayer>();
  const switches: string[] = [];
  g.nodes.forEach((n) => {
    if (used.has(n.name)) layers.set(n.name, { node: n.name, opType: n.opType, w: null, a: null });
  });
  const switchFor = (node: string, role: 'w' | 'a'): string => {
    const layer = layers.get(node)!;
    if (layer[role] === null) {
      // Model node names may hold anything; switch names are plain and numbered.
      layer[role] = b.input(b.namer.fresh(`quantlens_switch_${role}${switches.length}`), 'bool', []);
      switches.push(layer[role]);
    }
    return layer[role];
  };
  for (const t of plan.targets) {
    if (t.params === undefined) throw modelError(`quantizer ${t.key} has no parameters (not calibrated)`);
    let q: string;
    if (t.role === 'weight') {
      const w = g.initializers.get(t.tensor);
      if (w === undefined) throw modelError(`weight ${t.tensor} is not an initializer`);
      q = b.namer.fresh(`${t.tensor}__fq`);
      g.initializers.set(q, makeTensor(q, fakeQuant(toFloat32(w), w.dims, t.params), w.dims));
    } else q = emitQuantizer(b, g, t.tensor, t.params, `${t.key}__fq`);
    for (const use of t.uses) {
      const node = byName.get(use.node);
      const original = node?.inputs[use.input];
      if (node === undefined || original === undefined)
        throw modelError(`quantized use ${use.node} is not in the graph`);
      const sw = switchFor(use.node, t.role === 'weight' ? 'w' : 'a');
      const sel = b.op('Where', [sw, q, original], {}, { name: names.node(t.key, 'switch') });
      g.setNodeInput(node, use.input, sel);
    }
  }
  g.topoSort();
  return { model: out, layers: [...layers.values()], switches };
}

/** Feeds for the switches: those in `on` true, all others false. */
export function switchFeeds(s: Switchable, on: ReadonlySet<string>): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const name of s.switches) feeds[name] = { dtype: 'bool', dims: [], data: Uint8Array.of(on.has(name) ? 1 : 0) };
  return feeds;
}
