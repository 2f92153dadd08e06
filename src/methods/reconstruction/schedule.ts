// Which units may share one capture pass. Activation step-size learning reads FP inputs (q-diffusion.md §4.3), so
// one pass serves every unit. Weight reconstruction reads inputs from the weight-quantized model, and each finished
// unit replaces its weights (§3.4): the reference recaptures before every unit. A capture made before a run of
// units stays exact for a unit as long as no unit reconstructed since then feeds its entries. In execution order
// almost every unit feeds the next; in the reference order the decoder runs backwards (§9.1), so e.g. `up.1`'s
// first block does not depend on `up.0`'s and both can be captured together. Imports the IR only.

import type { Model, Node } from '../../onnx/ir.js';
import type { ReconstructionUnit } from './units.js';

/** For each unit id, the ids of the units whose weighted layers feed its entries. */
export function upstreamUnits(model: Model, units: readonly ReconstructionUnit[]): Map<string, Set<string>> {
  const g = model.graph;
  const owner = new Map<string, string>();
  for (const u of units) for (const l of u.layers) owner.set(l, u.id);
  const out = new Map<string, Set<string>>();
  for (const u of units) {
    const found = new Set<string>();
    const seen = new Set<Node>();
    const stack = u.entries.map((e) => g.producerOf(e)).filter((p): p is Node => p !== undefined);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const o = owner.get(n.name);
      if (o !== undefined && o !== u.id) found.add(o);
      for (const i of n.inputs) {
        const p = i === '' ? undefined : g.producerOf(i);
        if (p !== undefined && !seen.has(p)) stack.push(p);
      }
    }
    out.set(u.id, found);
  }
  return out;
}

/**
 * `units` (in walk order) cut into runs whose inputs can be captured in one pass before the run starts: no unit of
 * a run is fed by an earlier unit of the same run.
 */
export function captureGroups(model: Model, units: readonly ReconstructionUnit[]): ReconstructionUnit[][] {
  const up = upstreamUnits(model, units);
  const groups: ReconstructionUnit[][] = [];
  let current: ReconstructionUnit[] = [];
  for (const u of units) {
    if (current.some((c) => up.get(u.id)!.has(c.id))) {
      groups.push(current);
      current = [];
    }
    current.push(u);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
