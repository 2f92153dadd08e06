// Finding RepQ-ViT's post-LayerNorm pairs by topology (repq-vit.md §3.1, §10): a LayerNorm (fused or decomposed)
// whose output reaches MatMul/Gemm consumers with constant weights through channel-preserving data movement only
// (Reshape keeping the channel axis last, Transpose, token Slice/Gather/Concat, which covers Swin's roll and window
// partition). The official code selects qkv/fc1/reduction by module name; here the same pairs fall out of the graph:
// norm1 -> qkv, norm2 -> fc1 and patch merging's norm -> reduction qualify, while Swin's patch_norm (read by the
// next LayerNorm and a residual Add) and the final norm (mean pooling, or the cls token picked out for the head) do
// not. Owns detection only; reparam.ts edits. Imports the IR and the LayerNorm finder.

import type { Graph, Node } from '../../onnx/ir.js';
import { elementCount, toNumbers } from '../../onnx/tensor.js';
import { constantTensor } from '../../onnx/rewrite/const-value.js';
import { findLayerNorms, type LayerNorm } from '../../onnx/rewrite/layernorm.js';

export interface PostLnConsumer {
  /** node name of the MatMul/Gemm */
  node: string;
  opType: 'MatMul' | 'Gemm';
}

export interface PostLnPair {
  norm: LayerNorm;
  /** the LayerNorm's last node, for reports */
  name: string;
  channels: number;
  /** the value every consumer reads as its input 0: the post-LN activation that gets quantized */
  tensor: string;
  consumers: PostLnConsumer[];
  /** data-movement nodes between the LayerNorm output and `tensor`, in graph order */
  path: string[];
}

export interface SkippedNorm {
  name: string;
  reason: string;
}

/** Where the normalized channel axis is: counted from the end (−1 = last), and the rank when known. */
interface Track {
  axis: number;
  rank: number | undefined;
}

// Reading these never depends on the values, so they do not stop a pair.
const VALUE_FREE = new Set(['Shape', 'Size']);

class Reject extends Error {}

function constInts(g: Graph, value: string | undefined): number[] | undefined {
  if (value === undefined || value === '') return undefined;
  const t = constantTensor(g, value);
  return t === undefined || (t.dtype !== 'int64' && t.dtype !== 'int32') ? undefined : toNumbers(t);
}

/** An axis (attribute or constant) counted from the end; needs the rank for a non-negative axis. */
function fromEnd(axis: number, rank: number | undefined, node: Node): number {
  if (axis < 0) return axis;
  if (rank === undefined) throw new Reject(`${node.opType} ${node.name}: axis ${axis} on a tensor of unknown rank`);
  return axis - rank;
}

/** The channel track of a data-movement node's output, or a Reject saying why the node does not qualify. */
function moveTrack(g: Graph, n: Node, inTrack: Track, channels: number, domain: Map<string, Track>): Track {
  const { axis, rank } = inTrack;
  switch (n.opType) {
    case 'Identity':
      return inTrack;
    case 'Reshape': {
      // Row-major reshape keeps element (…, c) at (…, c) exactly when the channel axis is last on both sides.
      const shape = constInts(g, n.inputs[1]);
      if (axis !== -1 || shape === undefined || shape.at(-1) !== channels)
        throw new Reject(`Reshape ${n.name} does not keep the ${channels} channels as the last axis`);
      return { axis: -1, rank: shape.length };
    }
    case 'Transpose': {
      const perm = n.intsAttr('perm');
      if (perm === undefined) throw new Reject(`Transpose ${n.name} without perm`);
      const r = perm.length;
      return { axis: perm.indexOf(r + axis) - r, rank: r };
    }
    case 'Slice': {
      const axes = constInts(g, n.inputs[3]);
      if (axes === undefined) throw new Reject(`Slice ${n.name} without constant axes`);
      if (axes.some((a) => fromEnd(a, rank, n) === axis)) throw new Reject(`Slice ${n.name} cuts the channel axis`);
      return inTrack;
    }
    case 'Gather': {
      const idx = n.inputs[1] === undefined ? undefined : constantTensor(g, n.inputs[1]);
      if (idx === undefined) throw new Reject(`Gather ${n.name} with non-constant indices`);
      // A scalar index drops the token axis: a head on the cls token. The official code leaves that (final) norm
      // out of the reparameterization and quantizes the head input per tensor.
      if (idx.dims.length === 0)
        throw new Reject(`Gather ${n.name} selects a single token (a classification head), left per-tensor`);
      if (idx.dims.length !== 1) throw new Reject(`Gather ${n.name} with ${idx.dims.length}-D indices`);
      if (fromEnd(n.intAttr('axis', 0), rank, n) === axis) throw new Reject(`Gather ${n.name} picks channels`);
      return inTrack;
    }
    case 'Concat': {
      if (fromEnd(n.intAttr('axis', 0), rank, n) === axis) throw new Reject(`Concat ${n.name} joins channels`);
      for (const i of n.inputs) {
        const t = domain.get(i);
        if (t === undefined || t.axis !== axis)
          throw new Reject(`Concat ${n.name} joins the normalized tensor with other values`);
      }
      return inTrack;
    }
    default:
      throw new Reject(`${n.opType} ${n.name} reads the normalized values`);
  }
}

function consumerOf(g: Graph, n: Node, domain: Map<string, Track>): PostLnConsumer {
  const a = domain.get(n.inputs[0] ?? '');
  const w = n.inputs[1];
  if (a === undefined || w === undefined || domain.has(w) || n.inputs.slice(2).some((i) => domain.has(i)))
    throw new Reject(`${n.opType} ${n.name} reads the normalized values as a weight`);
  const weight = constantTensor(g, w);
  if (weight === undefined || weight.dims.length !== 2)
    throw new Reject(`${n.opType} ${n.name} has no constant 2-D weight`);
  if (a.axis !== -1) throw new Reject(`${n.opType} ${n.name} does not contract the channel axis`);
  if (n.opType === 'Gemm' && n.intAttr('transA', 0) !== 0) throw new Reject(`Gemm ${n.name} with transA`);
  return { node: n.name, opType: n.opType as 'MatMul' | 'Gemm' };
}

function channelCount(g: Graph, ln: LayerNorm): number | undefined {
  const gamma = ln.gamma === undefined ? undefined : constantTensor(g, ln.gamma);
  if (gamma !== undefined) return elementCount(gamma.dims);
  const last = g.typeOf(ln.input)?.shape?.at(-1);
  return typeof last === 'number' ? last : undefined;
}

function pairFor(g: Graph, ln: LayerNorm, position: Map<Node, number>): PostLnPair {
  const name = ln.nodes.at(-1)!.name;
  if (ln.axis !== -1) throw new Reject(`normalizes from axis ${ln.axis}, not only the last axis`);
  const channels = channelCount(g, ln);
  if (channels === undefined) throw new Reject('unknown channel count');
  const domain = new Map<string, Track>([[ln.output, { axis: -1, rank: g.typeOf(ln.input)?.shape?.length }]]);
  const path: string[] = [];
  const consumers: (PostLnConsumer & { tensor: string })[] = [];
  const start = position.get(ln.nodes.at(-1)!)!;
  for (const n of g.nodes.slice(start + 1)) {
    const reads = n.inputs.filter((i) => domain.has(i));
    if (reads.length === 0 || VALUE_FREE.has(n.opType)) continue;
    if (n.opType === 'MatMul' || n.opType === 'Gemm') {
      consumers.push({ ...consumerOf(g, n, domain), tensor: n.inputs[0]! });
      continue;
    }
    if (n.opType !== 'Concat' && (reads.length !== 1 || reads[0] !== n.inputs[0]))
      throw new Reject(`${n.opType} ${n.name} reads the normalized values as a parameter`);
    const out = moveTrack(g, n, domain.get(reads[0]!)!, channels, domain);
    if (n.outputs.length !== 1) throw new Reject(`${n.opType} ${n.name} has several outputs`);
    domain.set(n.outputs[0]!, out);
    path.push(n.name);
  }
  for (const v of domain.keys()) if (g.isGraphOutput(v)) throw new Reject(`${v} is a graph output`);
  if (consumers.length === 0) throw new Reject('no MatMul/Gemm reads the normalized values');
  const tensor = consumers[0]!.tensor;
  if (consumers.some((c) => c.tensor !== tensor))
    throw new Reject('its consumers read different tensors, which would need different quantizers');
  // Data movement that feeds no consumer (dead ends) does not matter, but keep the path to what is used.
  const used = new Set<string>();
  const mark = (v: string): void => {
    const p = g.producerOf(v);
    if (p === undefined || !path.includes(p.name) || used.has(p.name)) return;
    used.add(p.name);
    p.inputs.forEach((i) => domain.has(i) && mark(i));
  };
  mark(tensor);
  return {
    norm: ln,
    name,
    channels,
    tensor,
    consumers: consumers.map(({ node, opType }) => ({ node, opType })),
    path: path.filter((p) => used.has(p)),
  };
}

/** Every post-LayerNorm pair of a topologically sorted graph, and why the other LayerNorms do not qualify. */
export function findPostLnPairs(graph: Graph): { pairs: PostLnPair[]; skipped: SkippedNorm[] } {
  const position = new Map(graph.nodes.map((n, i) => [n, i]));
  const pairs: PostLnPair[] = [];
  const skipped: SkippedNorm[] = [];
  for (const ln of findLayerNorms(graph)) {
    try {
      pairs.push(pairFor(graph, ln, position));
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      skipped.push({ name: ln.nodes.at(-1)!.name, reason: e.message });
    }
  }
  return { pairs, skipped };
}
