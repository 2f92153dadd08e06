// A reconstruction unit as a standalone model: inputs are the unit's entries, the output its exit, initializers the
// ones its nodes read, and the constant subgraphs it reads (Constant nodes, shape arithmetic) copied in and folded.
// Node and value names stay as in the full model, so a QuantPlan made for the full model applies to the unit
// (restrictPlan) and probed tensors feed it by name. Nodes shared with other units (a SiLU of temb) are copied.
// Imports the IR, rewrite passes and plan types; not the runtime.

import { cloneNode } from '../../onnx/clone.js';
import { Graph, type Model, type Node, type TensorType, type ValueInfo } from '../../onnx/ir.js';
import { foldConstants } from '../../onnx/rewrite/constant-fold.js';
import { modelError } from '../../errors.js';
import type { HostTensor } from '../../util/host-tensor.js';
import type { QuantPlan } from '../../quant/plan.js';
import { constantValues } from './graph-facts.js';
import type { ReconstructionUnit } from './units.js';

export interface ExtractOptions {
  /** entry and exit types where the graph has none (torch exports carry no value_info): see typesFromTensors */
  types?: ReadonlyMap<string, TensorType>;
  /** fold the copied constant subgraphs into initializers (default true) */
  fold?: boolean;
}

/** Types from probed tensors, with the leading (batch) dimension made symbolic so any batch size runs. */
export function typesFromTensors(
  tensors: ReadonlyMap<string, Pick<HostTensor, 'dtype' | 'dims'>>,
  batch = 'batch',
): Map<string, TensorType> {
  const out = new Map<string, TensorType>();
  for (const [name, t] of tensors)
    out.set(name, { dtype: t.dtype, shape: t.dims.map((d, i) => (i === 0 ? batch : d)) });
  return out;
}

function typeFor(model: Model, value: string, opts: ExtractOptions): TensorType {
  // Entries are activations; float32 is the right guess when neither the graph nor the caller says.
  return opts.types?.get(value) ?? model.graph.typeOf(value) ?? { dtype: 'float32' };
}

export function extractUnit(model: Model, unit: ReconstructionUnit, opts: ExtractOptions = {}): Model {
  const g = model.graph;
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  const constant = constantValues(g, g.nodes);
  const inUnit = new Set<Node>();
  for (const name of unit.nodes) {
    const n = byName.get(name);
    if (n === undefined) throw modelError(`unit ${unit.id}: node ${name} is not in the model`);
    inUnit.add(n);
  }
  const entries = new Set(unit.entries);
  const produced = new Set([...inUnit].flatMap((n) => n.outputs));
  const keep = new Set(inUnit);
  const initializers = new Set<string>();
  // Everything the unit reads is an entry, computed inside, or constant (copied with its constant producers).
  const stack = [...inUnit];
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (const v of n.inputs) {
      if (v === '' || entries.has(v) || produced.has(v)) continue;
      if (g.initializers.has(v) && !g.isGraphInput(v)) {
        initializers.add(v);
        continue;
      }
      const p = g.producerOf(v);
      if (p === undefined || !constant.has(v))
        throw modelError(
          `unit ${unit.id}: node ${n.name} (${n.opType}) reads ${v}, which is neither an entry, nor computed inside the unit, nor constant`,
        );
      if (!keep.has(p)) {
        keep.add(p);
        stack.push(p);
      }
    }
  }
  if (!produced.has(unit.exit) && !entries.has(unit.exit))
    throw modelError(`unit ${unit.id}: its exit ${unit.exit} is not computed by its nodes`);

  const sub = new Graph({
    name: `${g.name}:${unit.id}`,
    inputs: unit.entries.map((e): ValueInfo => ({ name: e, type: typeFor(model, e, opts) })),
    outputs: [{ name: unit.exit, type: typeFor(model, unit.exit, opts) }],
  });
  for (const name of initializers) {
    const t = g.initializers.get(name)!;
    sub.initializers.set(name, { ...t, dims: [...t.dims] });
  }
  const nodes = [...keep].sort((a, b) => index.get(a)! - index.get(b)!);
  for (const n of nodes) {
    sub.addNode(cloneNode(n));
    for (const o of n.outputs) {
      const info = g.valueInfo.get(o);
      if (info !== undefined && o !== unit.exit) sub.valueInfo.set(o, { ...info });
    }
  }
  if (opts.fold !== false) foldConstants(sub);
  sub.topoSort();
  return {
    ...model,
    opsetImports: new Map(model.opsetImports),
    metadata: new Map(),
    docString: `reconstruction unit ${unit.id} (${unit.kind})`,
    graph: sub,
  };
}

/**
 * The part of a full-model plan that applies inside an extracted unit: targets with their uses restricted to the
 * unit's nodes (a quantizer shared by several units, e.g. on SiLU(temb), keeps only this unit's uses). Targets are
 * new objects; their params are shared with `plan`.
 */
export function restrictPlan(plan: QuantPlan, unitModel: Model): QuantPlan {
  const names = new Set(unitModel.graph.nodes.map((n) => n.name));
  const targets = plan.targets
    .map((t) => ({ ...t, uses: t.uses.filter((u) => names.has(u.node)) }))
    .filter((t) => t.uses.length > 0);
  return { ...plan, targets };
}
