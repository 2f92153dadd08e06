// Residual regions: for every Add of two main-stream values, the region from its immediate dominator (the entry:
// the value both operands reconverge from) to the Add (the exit), checked to be single-entry single-exit. Side
// inputs are pulled in up to and including their first weighted layer and the activation in front of it, so a
// ResBlock owns temb_proj(SiLU(temb)) and takes temb itself as its second entry (q-diffusion.md §3.3). Regions
// that contain another valid region are left to the inner ones; attention regions followed by a feed-forward
// region are merged into one transformer block. Imports the IR and graph-facts.

import type { Node } from '../../onnx/ir.js';
import { isWeightedLayer, type GraphFacts } from './graph-facts.js';

export interface Region {
  /** the exit node (the residual Add, or the last Add of a merged transformer block) */
  exitNode: Node;
  exit: string;
  /** main entries first (one value, or the inputs of a split Concat), then side entries */
  entries: string[];
  /** non-constant nodes of the region, main and pulled-in side nodes */
  nodes: Set<Node>;
  /** how many residual regions were merged into this one (2 for attention + MLP) */
  merged: number;
}

export interface RejectedRegion {
  add: string;
  reason: string;
  /** weighted layers of the rejected region (they get layer units unless another block covers them) */
  layers: string[];
}

/** Weightless ops that may sit between a side value and its projection (SiLU, GELU, ...), pulled in even if shared. */
const ACTIVATION_OPS = new Set([
  'Sigmoid',
  'Relu',
  'LeakyRelu',
  'Tanh',
  'Elu',
  'Selu',
  'Gelu',
  'Erf',
  'Softplus',
  'HardSigmoid',
  'HardSwish',
  'Mul',
  'Add',
  'Div',
  'Sub',
]);

function isResidualAdd(f: GraphFacts, n: Node, splitSums: ReadonlySet<Node>): boolean {
  if (n.opType !== 'Add' || n.domain !== '' || n.inputs.length !== 2 || splitSums.has(n)) return false;
  const [a, b] = n.inputs as [string, string];
  return a !== b && f.main.has(a) && f.main.has(b);
}

/** Adds that only sum the parts of a split Conv (they are part of a layer, not residuals). */
function splitSumAdds(f: GraphFacts): Set<Node> {
  const out = new Set<Node>();
  const parts = new Set(f.joins.keys());
  for (const n of f.nodes) {
    if (n.opType !== 'Add') continue;
    const fromParts = n.inputs.every((i) => {
      const p = f.graph.producerOf(i);
      return p !== undefined && (parts.has(p) || out.has(p));
    });
    if (fromParts) out.add(n);
  }
  return out;
}

function outsideUse(f: GraphFacts, region: ReadonlySet<Node>, exit: Node): string | undefined {
  for (const n of region) {
    if (n === exit) continue;
    for (const o of n.outputs) {
      if (o === '') continue;
      if (f.graph.isGraphOutput(o)) return `internal value ${o} is a graph output`;
      const c = f.graph.consumersOf(o).find((c) => !region.has(c));
      if (c !== undefined) return `internal value ${o} is also read by ${c.name} (${c.opType}) outside the region`;
    }
  }
  return undefined;
}

/** Pulls the producers of side value `v` into the region (see the header), adding the side entries it reaches. */
function pullSide(f: GraphFacts, v: string, region: Set<Node>, entries: string[]): void {
  const g = f.graph;
  const walk = (value: string, sawLayer: boolean): void => {
    if (value === '' || f.constant.has(value) || f.main.has(value)) return;
    const p = g.producerOf(value);
    if (p === undefined || region.has(p)) {
      if (p === undefined && !entries.includes(value)) entries.push(value);
      return;
    }
    const isPrivate = p.outputs.every((o) => o === '' || g.consumersOf(o).every((c) => region.has(c)));
    const weighted = isWeightedLayer(g, p);
    // Before the first weighted layer only nodes this region alone reads; after it only activations.
    const take = sawLayer ? !weighted && ACTIVATION_OPS.has(p.opType) : isPrivate;
    if (!take) {
      if (!entries.includes(value)) entries.push(value);
      return;
    }
    region.add(p);
    for (const i of p.inputs) walk(i, sawLayer || weighted);
  };
  walk(v, false);
}

function regionFor(f: GraphFacts, add: Node): Region | RejectedRegion {
  const e = f.idom.get(add) ?? null;
  const main = new Set<Node>();
  const stack = [add];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (main.has(n)) continue;
    main.add(n);
    for (const p of f.mainPreds(n)) if (p !== null && p !== e && !main.has(p)) stack.push(p);
  }
  const layers = () =>
    [...main]
      .filter((n) => isWeightedLayer(f.graph, n))
      .sort((a, b) => f.index.get(a)! - f.index.get(b)!)
      .map((n) => n.name);
  const reject = (reason: string): RejectedRegion => ({ add: add.name, reason, layers: layers() });
  let entries: string[];
  if (e === null) {
    if (f.primaryInputs.length !== 1) return reject('the operands only meet at the model inputs');
    entries = [f.primaryInputs[0]!];
  } else if ([...f.joins.values()].includes(e)) {
    // A split Concat: its inputs are what the block reads (its parts read them directly).
    main.add(e);
    entries = [...new Set(e.inputs.filter((i) => f.main.has(i)))];
  } else {
    const used = e.outputs.filter((o) => [...main].some((n) => n.inputs.includes(o)));
    if (used.length !== 1) return reject(`its entry node ${e.name} (${e.opType}) has ${used.length} outputs in use`);
    entries = used;
  }
  const why = outsideUse(f, main, add);
  if (why !== undefined) return reject(why);
  const produced = new Set([...main].flatMap((n) => n.outputs));
  for (const n of main)
    for (const i of n.inputs)
      if (f.main.has(i) && !produced.has(i) && !entries.includes(i))
        return reject(`node ${n.name} (${n.opType}) reads ${i}, produced outside the region`);
  const nodes = new Set(main);
  for (const n of main)
    for (const i of n.inputs) if (i !== '' && !f.main.has(i) && !f.constant.has(i)) pullSide(f, i, nodes, entries);
  return { exitNode: add, exit: add.outputs[0]!, entries, nodes, merged: 1 };
}

const hasOp = (r: Region, op: string) => [...r.nodes].some((n) => n.opType === op);

/** A feed-forward residual: linear layers only (no Conv, no attention), no side input. */
function isFeedForward(f: GraphFacts, r: Region): boolean {
  const weighted = [...r.nodes].filter((n) => isWeightedLayer(f.graph, n));
  return (
    !hasOp(r, 'Softmax') &&
    r.entries.length === 1 &&
    weighted.length > 0 &&
    weighted.every((n) => n.opType === 'MatMul' || n.opType === 'Gemm')
  );
}

function mergeTransformerBlocks(f: GraphFacts, regions: Region[]): Region[] {
  const byEntry = new Map<string, Region>();
  for (const r of regions) if (r.entries.length >= 1) byEntry.set(r.entries[0]!, r);
  const out: Region[] = [];
  const used = new Set<Region>();
  for (const r of regions) {
    if (used.has(r) || !hasOp(r, 'Softmax')) continue;
    const chain = [r];
    for (;;) {
      const last = chain.at(-1)!;
      const next = byEntry.get(last.exit);
      if (next === undefined || used.has(next)) break;
      // The joined value must stay internal: read only by the next region.
      if (f.graph.consumersOf(last.exit).some((c) => !next.nodes.has(c))) break;
      chain.push(next);
      if (!hasOp(next, 'Softmax')) break;
    }
    if (chain.length < 2 || !isFeedForward(f, chain.at(-1)!)) continue;
    const nodes = new Set(chain.flatMap((c) => [...c.nodes]));
    const entries = [...new Set(chain.flatMap((c, i) => (i === 0 ? c.entries : c.entries.slice(1))))];
    const last = chain.at(-1)!;
    out.push({ exitNode: last.exitNode, exit: last.exit, entries, nodes, merged: chain.length });
    for (const c of chain) used.add(c);
  }
  return [...regions.filter((r) => !used.has(r)), ...out].sort(
    (a, b) => f.index.get(a.exitNode)! - f.index.get(b.exitNode)!,
  );
}

export interface RegionResult {
  regions: Region[];
  rejected: RejectedRegion[];
  /** valid regions left to the valid regions nested inside them */
  outer: string[];
}

export function residualRegions(f: GraphFacts, opts: { mergeTransformerBlocks?: boolean } = {}): RegionResult {
  const sums = splitSumAdds(f);
  const found: Region[] = [];
  const rejected: RejectedRegion[] = [];
  for (const n of f.nodes) {
    if (!isResidualAdd(f, n, sums)) continue;
    const r = regionFor(f, n);
    if ('reason' in r) rejected.push(r);
    else found.push(r);
  }
  const exits = new Set(found.map((r) => r.exitNode));
  const outer = found.filter((r) => [...r.nodes].some((n) => n !== r.exitNode && exits.has(n)));
  const inner = found.filter((r) => !outer.includes(r));
  const regions = opts.mergeTransformerBlocks === false ? inner : mergeTransformerBlocks(f, inner);
  return { regions, rejected, outer: outer.map((r) => r.exitNode.name) };
}
