// Reconstruction units (q-diffusion.md §3.3; DESIGN §4): the blocks that BRECQ reconstructs jointly and the single
// layers that AdaRound reconstructs alone, in the reference's walk order. Blocks are the single-entry single-exit
// residual regions of regions.ts (ResnetBlock, AttnBlock, a transformer block); every weighted layer outside them
// (time-embedding dense layers, conv_in, down/upsample convs, conv_out, patch embedding, head) is a layer unit.
// Residual regions that are not single-entry single-exit fall back to layer units, with the reason. Parameter
// names only label units (labels.ts). Imports the IR, plan.ts (node names) and this folder; not the runtime.

import type { Model, Node } from '../../onnx/ir.js';
import { ensureUniqueNodeNames } from '../../quant/plan.js';
import { graphFacts, isWeightedLayer, type GraphFacts, type SplitJoin } from './graph-facts.js';
import { referenceOrder, unitLabel, type LabelSource } from './labels.js';
import { residualRegions, type RejectedRegion } from './regions.js';

export type UnitOrder = 'reference' | 'execution';

export interface ReconstructionUnit {
  /** unique: the label, suffixed `#2`, `#3`, ... when labels repeat */
  id: string;
  label: string;
  labelSource: LabelSource;
  kind: 'block' | 'layer';
  /** entry values: the main input first (for a split decoder block, both Concat inputs), then side inputs (temb) */
  entries: string[];
  exit: string;
  /** non-constant node names in graph order (constants feeding them are folded in on extraction) */
  nodes: string[];
  /** weighted layers (Conv/Gemm/MatMul with an initializer weight): what AdaRound reconstructs */
  layers: string[];
  /** activation x activation MatMuls (attention): their inputs have activation quantizers (§4.1) */
  matmuls: string[];
  /** nodes that other units contain too (the SiLU of temb that every ResBlock reads); copied on extraction */
  shared: string[];
  /** why a layer unit is not part of a block, or how a block was formed */
  note?: string;
}

export interface UnitList {
  order: UnitOrder;
  primaryInputs: string[];
  units: ReconstructionUnit[];
  /** residual regions that are not single-entry single-exit; their layers became layer units */
  fallbacks: RejectedRegion[];
  /** exits of residual regions left to the blocks nested inside them */
  outer: string[];
}

export interface FindUnitsOptions {
  /** 'reference' (default): the module registration order of the reference; 'execution': by exit position */
  order?: UnitOrder;
  /** the main-stream inputs (default: the graph inputs of the highest rank, i.e. the image, not the time step) */
  primaryInputs?: readonly string[];
  /** shortcut splits of the model (found from the graph when the Concat is still there) */
  splits?: readonly SplitJoin[];
  /** merge attention + feed-forward residuals into one transformer block (default true) */
  mergeTransformerBlocks?: boolean;
}

const byIndex = (f: GraphFacts) => (a: Node, b: Node) => f.index.get(a)! - f.index.get(b)!;

/** A linear layer's bias Add when it is a separate node (a Linear on 3-D input exports as MatMul + Add). */
function biasAdd(f: GraphFacts, layer: Node): Node | undefined {
  if (layer.opType !== 'MatMul') return undefined;
  const out = layer.outputs[0]!;
  const consumers = f.graph.consumersOf(out);
  const add = consumers[0];
  if (consumers.length !== 1 || add?.opType !== 'Add' || f.graph.isGraphOutput(out)) return undefined;
  const other = add.inputs.find((i) => i !== out);
  return other !== undefined && f.constant.has(other) ? add : undefined;
}

interface Draft {
  kind: 'block' | 'layer';
  nodes: Node[];
  exitNode: Node;
  exit: string;
  entries: string[];
  note?: string;
}

/**
 * The reconstruction units of `model`. Sorts the graph topologically and gives unnamed or duplicate-named nodes
 * unique names (as planQuantization does), since units name their nodes.
 */
export function findUnits(model: Model, opts: FindUnitsOptions = {}): UnitList {
  const g = model.graph;
  g.topoSort();
  ensureUniqueNodeNames(g);
  const f = graphFacts(model, {
    ...(opts.primaryInputs === undefined ? {} : { primaryInputs: opts.primaryInputs }),
    ...(opts.splits === undefined ? {} : { splits: opts.splits }),
  });
  const found = residualRegions(f, { mergeTransformerBlocks: opts.mergeTransformerBlocks !== false });
  const drafts: Draft[] = found.regions.map((r) => ({
    kind: 'block',
    nodes: [...r.nodes].sort(byIndex(f)),
    exitNode: r.exitNode,
    exit: r.exit,
    entries: r.entries,
    ...(r.merged > 1 ? { note: `${r.merged} residual regions (attention + feed-forward) merged` } : {}),
  }));
  const covered = new Set(drafts.flatMap((d) => d.nodes));
  const fallbackOf = new Map<string, RejectedRegion>();
  for (const r of found.rejected) for (const l of r.layers) if (!fallbackOf.has(l)) fallbackOf.set(l, r);
  for (const n of f.nodes) {
    if (covered.has(n) || !isWeightedLayer(g, n)) continue;
    const bias = biasAdd(f, n);
    const nodes = bias === undefined ? [n] : [n, bias];
    const exitNode = nodes.at(-1)!;
    const why = fallbackOf.get(n.name);
    drafts.push({
      kind: 'layer',
      nodes,
      exitNode,
      exit: exitNode.outputs[0]!,
      entries: [n.inputs[0]!],
      ...(why === undefined
        ? {}
        : {
            note: `in the residual region ending at ${why.add}, which is not single-entry single-exit: ${why.reason}`,
          }),
    });
  }
  drafts.sort((a, b) => f.index.get(a.exitNode)! - f.index.get(b.exitNode)!);

  const count = new Map<Node, number>();
  for (const d of drafts) for (const n of d.nodes) count.set(n, (count.get(n) ?? 0) + 1);
  const labelled = drafts.map((d, rank) => {
    const layers = d.nodes.filter((n) => isWeightedLayer(g, n));
    const own = d.nodes.filter((n) => count.get(n) === 1);
    const { label, source } = unitLabel(g, own, layers, f.constant);
    return { d, rank, layers, label: label ?? `#${rank}`, source };
  });
  const order =
    (opts.order ?? 'reference') === 'reference'
      ? referenceOrder(
          labelled.map((u) => u.label),
          labelled.map((u) => u.rank),
        )
      : labelled.map((_, i) => i);
  const seen = new Map<string, number>();
  const ids = labelled.map((u) => {
    const k = (seen.get(u.label) ?? 0) + 1;
    seen.set(u.label, k);
    return k === 1 ? u.label : `${u.label}#${k}`;
  });
  const units = order.map((i): ReconstructionUnit => {
    const { d, layers, label, source } = labelled[i]!;
    return {
      id: ids[i]!,
      label,
      labelSource: source,
      kind: d.kind,
      entries: d.entries,
      exit: d.exit,
      nodes: d.nodes.map((n) => n.name),
      layers: layers.map((n) => n.name),
      matmuls: d.nodes.filter((n) => n.opType === 'MatMul' && !isWeightedLayer(g, n)).map((n) => n.name),
      shared: d.nodes.filter((n) => count.get(n)! > 1).map((n) => n.name),
      ...(d.note === undefined ? {} : { note: d.note }),
    };
  });
  return {
    order: opts.order ?? 'reference',
    primaryInputs: [...f.primaryInputs],
    units,
    fallbacks: found.rejected,
    outer: found.outer,
  };
}
