// Sequential calibration by graph slices (see sequential.ts). A placeholder marks where each pending quantizer
// goes; every node gets the level of its outputs (quantizers on the deepest path above it). Slice L holds exactly
// the nodes of level L that some pending quantizer needs, reads the values of earlier slices (kept between runs)
// and has the quantizers of depth L − 1, calibrated by then, built in with their parameters. So each node runs
// once, in the state the reference's single forward pass computes it in, and a slice needs no switches: the
// whole calibration costs one forward pass plus one small session per level. Imports the IR, builder, fake-quant
// emitters and the runtime.

import { GraphBuilder } from '../../onnx/builder.js';
import { cloneNode } from '../../onnx/clone.js';
import { Graph, type Model, type Node } from '../../onnx/ir.js';
import { names } from '../../onnx/naming.js';
import { modelError } from '../../errors.js';
import { emitLog, emitUniform } from '../../quant/fake-quant.js';
import type { QuantTarget } from '../../quant/plan.js';
import { Session, type Feeds } from '../../runtime/index.js';
import type { HostTensor } from '../../util/host-tensor.js';
import {
  observeTarget,
  valueLevels,
  type SequentialOptions,
  type SequentialRunner,
  type SequentialStats,
} from './sequential-common.js';

/** Nodes that some pending quantizer's input depends on (nothing after the last quantizer is ever run). */
function neededNodes(g: Graph, tensors: Iterable<string>): Set<Node> {
  const needed = new Set<Node>();
  const stack = [...tensors];
  while (stack.length > 0) {
    const p = g.producerOf(stack.pop()!);
    if (p === undefined || needed.has(p)) continue;
    needed.add(p);
    stack.push(...p.inputs.filter((i) => i !== ''));
  }
  return needed;
}

interface Slice {
  model: Model;
  inputs: string[];
  outputs: string[];
}

/** The model of one slice: its nodes, the quantizers its placeholders stand for, outside values as inputs. */
function buildSlice(
  base: Model,
  nodes: Node[],
  slots: ReadonlyMap<string, QuantTarget>,
  ranks: ReadonlyMap<QuantTarget, number>,
  cache: ReadonlyMap<string, HostTensor>,
  keep: (value: string) => boolean,
  opts: SequentialOptions,
): Slice {
  const src = base.graph;
  const g = new Graph({ name: `${src.name}_slice` });
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const inputs = new Set<string>();
  for (const n of nodes)
    for (const i of n.inputs) {
      if (i === '' || produced.has(i)) continue;
      const init = src.initializers.get(i);
      if (init !== undefined) g.initializers.set(i, init);
      else inputs.add(i);
    }
  for (const i of inputs) {
    const v = cache.get(i);
    if (v === undefined) throw modelError(`sequential calibration: ${i} was not computed by an earlier slice`);
    g.inputs.push({ name: i, type: { dtype: v.dtype } });
  }
  for (const n of nodes) if (!slots.has(n.outputs[0]!)) g.addNode(cloneNode(n));
  // Created after the copies, so the quantizers' generated names avoid every name the slice already uses.
  const b = new GraphBuilder(g);
  for (const n of nodes) {
    const t = slots.get(n.outputs[0]!);
    if (t === undefined) continue;
    const p = t.params;
    if (p === undefined) throw modelError(`quantizer ${t.key} is used before it was calibrated`);
    const baseName = `${t.key}__fq`;
    const q =
      opts.emit?.(b, g, t, baseName) ??
      (p.kind === 'uniform' ? emitUniform(b, t.tensor, p, ranks.get(t), baseName) : emitLog(b, t.tensor, p, baseName));
    b.op('Identity', [q], {}, { name: names.node(t.key, 'calib_out'), outputNames: [n.outputs[0]!] });
  }
  g.topoSort();
  const outputs = [...produced].filter(keep);
  g.outputs = outputs.map((name) => ({ name }));
  return { model: { ...base, graph: g }, inputs: [...inputs], outputs };
}

export const calibrateSliced: SequentialRunner = async (model, base, pending, batch, opts) => {
  const g = base.graph;
  const b = new GraphBuilder(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const slots = new Map<string, QuantTarget>();
  pending.forEach((t) => {
    const out = b.op('Identity', [t.tensor], {}, { name: names.node(t.key, 'calib_slot') });
    slots.set(out, t);
    for (const use of t.uses) {
      const node = byName.get(use.node);
      if (node === undefined) throw modelError(`quantized use ${use.node} is not in the graph`);
      g.setNodeInput(node, use.input, out);
    }
  });
  g.topoSort();
  const level = valueLevels(g, new Set(slots.keys()));
  const lv = (n: Node) => level.get(n.outputs[0]!) ?? 0;
  const needed = neededNodes(
    g,
    pending.map((t) => t.tensor),
  );
  const depth = (t: QuantTarget) => level.get(t.tensor) ?? 0;
  // The last level that reads each value, so the cache can let go of it.
  const lastUse = new Map<string, number>();
  for (const n of needed) for (const i of n.inputs) lastUse.set(i, Math.max(lastUse.get(i) ?? 0, lv(n)));
  const targetsAt = new Map<number, QuantTarget[]>();
  for (const t of pending) targetsAt.set(depth(t), [...(targetsAt.get(depth(t)) ?? []), t]);
  const maxLevel = Math.max(...targetsAt.keys());
  const stats: SequentialStats = {
    strategy: 'sliced',
    levels: 0,
    sessions: 0,
    calibrated: pending.length,
    buildSeconds: 0,
    runSeconds: 0,
    observeSeconds: 0,
  };
  const cache = new Map<string, HostTensor>(Object.entries(batch));
  const ranks = new Map<QuantTarget, number>();
  const targetTensors = new Set(pending.map((t) => t.tensor));
  for (let l = 0; l <= maxLevel; l++) {
    const nodes = g.nodes.filter((n) => needed.has(n) && lv(n) === l);
    if (nodes.length > 0) {
      const b0 = performance.now();
      const keep = (v: string) => (lastUse.get(v) ?? -1) > l || (targetTensors.has(v) && level.get(v) === l);
      const slice = buildSlice(base, nodes, slots, ranks, cache, keep, opts);
      const session = await Session.create(slice.model, { ...opts, optimize: false });
      const r0 = performance.now();
      try {
        const feeds: Feeds = {};
        for (const i of slice.inputs) feeds[i] = cache.get(i)!;
        const got = await session.run(feeds, slice.outputs);
        for (const [k, v] of Object.entries(got)) cache.set(k, v);
      } finally {
        await session.release();
      }
      stats.sessions++;
      stats.buildSeconds += (r0 - b0) / 1000;
      stats.runSeconds += (performance.now() - r0) / 1000;
    }
    const o0 = performance.now();
    for (const t of targetsAt.get(l) ?? []) {
      const v = cache.get(t.tensor);
      observeTarget(model, t, v);
      ranks.set(t, v!.dims.length);
    }
    for (const [k] of cache) if ((lastUse.get(k) ?? -1) <= l && !(k in batch)) cache.delete(k);
    stats.observeSeconds += (performance.now() - o0) / 1000;
    if (nodes.length > 0 || targetsAt.has(l)) {
      stats.levels++;
      opts.onProgress?.(stats.levels, maxLevel + 1);
    }
  }
  return stats;
};
