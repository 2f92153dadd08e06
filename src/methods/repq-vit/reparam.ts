// RepQ-ViT's scale reparameterization of post-LayerNorm activations (repq-vit.md §3.2, equations as coded):
// with the channel-wise quantizer (s, z) of the consumer input,
//   s~ = mean(s), z~ = mean(z) (rounded with `roundZeroPoint`), r = s/s~, b = m/r − m~ (m = −z⊙s, m~ = −z~·s~),
//   LayerNorm: γ' = γ/r, β' = β/r − b;   consumers: W' = W·diag(r) on the input side, bias' = bias + W'·b,
// and the quantizer becomes per-tensor (s~, z~). LN'(x) = LN(x)/r − b, so W'·LN'(x) + bias' = W·LN(x) + bias: the
// float model is unchanged. Arithmetic is float32 step by step, like the reference's tensors. Edited constants are
// first made private to this pair (torch shares equal initializers through Identity, and may share a weight
// between consumers); a consumer without bias (Swin's reduction) gets a new Add. The consumers' weight quantizers
// lose their parameters: pass 2 re-fits them on W'. Imports the IR, builder, rewrite helpers and plan types.

import { GraphBuilder } from '../../onnx/builder.js';
import type { Graph, Node } from '../../onnx/ir.js';
import { elementCount, makeTensor, toFloat32 } from '../../onnx/tensor.js';
import { constantTensor } from '../../onnx/rewrite/const-value.js';
import { pruneValues } from '../../onnx/rewrite/dce.js';
import { modelError, unsupportedError } from '../../errors.js';
import type { QuantPlan, QuantTarget } from '../../quant/plan.js';
import { makeUniformParams, type UniformParams } from '../../quant/qparams.js';
import { roundHalfEven } from '../../quant/round.js';
import type { PostLnPair } from './post-ln-pairs.js';

const f32 = Math.fround;

export interface ReparamRecord {
  norm: string;
  tensor: string;
  consumers: string[];
  channels: number;
  /** the per-tensor parameters that replace the channel-wise ones */
  scale: number;
  zeroPoint: number;
  /** mean(z) before rounding (equal to zeroPoint unless roundZeroPoint) */
  meanZeroPoint: number;
  rMin: number;
  rMax: number;
  /** consumers that had no bias and got a new Add */
  newBias: string[];
  /** the channel-wise quantizer of pass 1 that the per-tensor one replaces */
  channelWise: UniformParams;
}

/** The per-channel factors of one pair, from its channel-wise quantizer. */
export interface ReparamFactors {
  scale: number;
  zeroPoint: number;
  meanZeroPoint: number;
  r: Float32Array;
  b: Float32Array;
}

export function reparamFactors(p: UniformParams, roundZeroPoint: boolean): ReparamFactors {
  const c = p.scale.length;
  const mean = (v: readonly number[]) => f32(v.reduce((a, x) => a + x, 0) / c);
  const scale = mean(p.scale);
  const meanZeroPoint = mean(p.zeroPoint);
  const zeroPoint = roundZeroPoint ? roundHalfEven(meanZeroPoint) + 0 : meanZeroPoint;
  const mT = f32(-zeroPoint * scale);
  const r = new Float32Array(c);
  const b = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const s = p.scale[i]!;
    r[i] = s / scale;
    b[i] = f32(f32(f32(-p.zeroPoint[i]! * s) / r[i]!) - mT);
  }
  return { scale, zeroPoint, meanZeroPoint, r, b };
}

/** A float32 initializer that only `node`'s input `index` reads; a private copy is made when it is shared. */
function ownConstant(g: Graph, b: GraphBuilder, node: Node, index: number, base: string): string {
  const v = node.inputs[index]!;
  const t = constantTensor(g, v);
  if (t === undefined) throw modelError(`${node.opType} ${node.name}: input ${index} (${v}) is not a constant`);
  if (t.dtype !== 'float32') throw unsupportedError(`${v} is ${t.dtype}; RepQ-ViT edits float32 parameters only`);
  const exclusive =
    g.initializers.has(v) &&
    !g.isGraphInput(v) &&
    !g.isGraphOutput(v) &&
    g.consumersOf(v).length === 1 &&
    node.inputs.filter((i) => i === v).length === 1;
  if (exclusive) return v;
  const name = b.namer.fresh(base);
  g.initializers.set(name, makeTensor(name, toFloat32(t), t.dims));
  g.setNodeInput(node, index, name);
  pruneValues(g, [v]);
  return name;
}

function setValues(g: Graph, name: string, values: Float32Array): void {
  const old = g.initializers.get(name)!;
  g.initializers.set(name, makeTensor(name, values, old.dims));
}

/** Appends `op(value, constant)` after `node`'s output 0, keeping the old output name for every reader. */
function appendAfter(g: Graph, b: GraphBuilder, node: Node, op: 'Mul' | 'Add', init: Float32Array, base: string) {
  const out = node.outputs[0]!;
  const inner = b.namer.fresh(`${out}__pre_${op.toLowerCase()}`);
  g.setNodeOutput(node, 0, inner);
  const c = b.init(b.namer.fresh(base), init, [init.length]);
  b.op(op, [inner, c], {}, { name: `${node.name}__repq_${op.toLowerCase()}`, outputNames: [out] });
  return c;
}

/** γ and β initializers private to this LayerNorm (created as 1 and 0 where it has none). */
function affineOf(g: Graph, b: GraphBuilder, pair: PostLnPair): { gamma: string; beta: string } {
  const ln = pair.norm;
  const last = ln.nodes.at(-1)!;
  const c = pair.channels;
  const base = `${last.name}__repq`;
  const locate = (value: string | undefined, op: string): { node: Node; index: number } | undefined => {
    if (value === undefined) return undefined;
    if (ln.kind === 'fused') return { node: last, index: op === 'Mul' ? 1 : 2 };
    const node = ln.nodes.find((n) => n.opType === op && n.inputs.includes(value))!;
    return { node, index: node.inputs.indexOf(value) };
  };
  const g0 = locate(ln.gamma, 'Mul');
  const b0 = locate(ln.beta, 'Add');
  let gamma = g0 === undefined ? undefined : ownConstant(g, b, g0.node, g0.index, `${base}_gamma`);
  let beta = b0 === undefined ? undefined : ownConstant(g, b, b0.node, b0.index, `${base}_beta`);
  if (ln.kind === 'fused' && beta === undefined) {
    beta = b.init(b.namer.fresh(`${base}_beta`), new Float32Array(c), [c]);
    g.setNodeInput(last, 2, beta);
  }
  // Decomposed without affine parameters: append them, beta after gamma.
  if (gamma === undefined) gamma = appendAfter(g, b, last, 'Mul', new Float32Array(c).fill(1), `${base}_gamma`);
  if (beta === undefined) {
    const tail = g.producerOf(ln.output)!;
    beta = appendAfter(g, b, tail, 'Add', new Float32Array(c), `${base}_beta`);
  }
  for (const v of [gamma, beta])
    if (elementCount(g.initializers.get(v)!.dims) !== c)
      throw unsupportedError(`LayerNorm ${last.name}: ${v} does not hold one value per channel`);
  return { gamma, beta };
}

/** Scales the consumer's weight by r on its input side and returns W'·b (what the bias must absorb). */
function scaleWeight(
  g: Graph,
  b: GraphBuilder,
  node: Node,
  f: Pick<ReparamFactors, 'r' | 'b'>,
): { weight: string; shift: Float32Array } {
  const weight = ownConstant(g, b, node, 1, `${node.name}__repq_weight`);
  const t = g.initializers.get(weight)!;
  const w = toFloat32(t);
  const c = f.r.length;
  const transposed = node.opType === 'Gemm' && node.intAttr('transB', 0) === 1;
  const [rows, cols] = t.dims as [number, number];
  if ((transposed ? cols : rows) !== c)
    throw modelError(`${node.opType} ${node.name}: weight [${t.dims.join(', ')}] does not have ${c} inputs`);
  const out = transposed ? rows : cols;
  const shift = new Float64Array(out);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const ch = transposed ? j : i;
      const o = transposed ? i : j;
      const v = f32(w[i * cols + j]! * f.r[ch]!);
      w[i * cols + j] = v;
      shift[o]! += v * f.b[ch]!;
    }
  setValues(g, weight, w);
  const alpha = node.opType === 'Gemm' ? node.floatAttr('alpha', 1) : 1;
  return { weight, shift: Float32Array.from(shift, (s) => s * alpha) };
}

/** Adds `shift` to the consumer's bias: its bias Add, Gemm's C, or a new Add. Returns true for a new Add. */
function absorbShift(g: Graph, b: GraphBuilder, node: Node, shift: Float32Array): boolean {
  const out = shift.length;
  const addTo = (owner: Node, index: number, factor: number) => {
    const name = ownConstant(g, b, owner, index, `${node.name}__repq_bias`);
    const v = toFloat32(g.initializers.get(name)!);
    for (let o = 0; o < out; o++) v[o] = f32(v[o]! + shift[o]! * factor);
    setValues(g, name, v);
  };
  if (node.opType === 'Gemm') {
    const beta = node.floatAttr('beta', 1);
    const c = node.inputs[2];
    const ct = c === undefined || c === '' ? undefined : constantTensor(g, c);
    if (ct !== undefined && beta !== 0 && elementCount(ct.dims) === out) {
      addTo(node, 2, 1 / beta);
      return false;
    }
  } else {
    const readers = g.consumersOf(node.outputs[0]!);
    const add = readers.length === 1 && !g.isGraphOutput(node.outputs[0]!) ? readers[0]! : undefined;
    if (add?.opType === 'Add') {
      const other = add.inputs[0] === node.outputs[0] ? 1 : 0;
      const bt = constantTensor(g, add.inputs[other]!);
      if (bt !== undefined && elementCount(bt.dims) === out && bt.dims.at(-1) === out) {
        addTo(add, other, 1);
        return false;
      }
    }
  }
  appendAfter(g, b, node, 'Add', shift, `${node.name}__repq_bias`);
  return true;
}

/** Points the weight quantizer of `use` at `tensor` and clears its parameters, splitting a shared target. */
function refitWeight(plan: QuantPlan, node: string, tensor: string): QuantTarget {
  const i = plan.targets.findIndex((t) => t.role === 'weight' && t.uses.some((u) => u.node === node));
  const t = plan.targets[i];
  if (t === undefined) throw modelError(`no weight quantizer for ${node}`);
  if (t.tensor === tensor) {
    delete t.params;
    return t;
  }
  const use = t.uses.find((u) => u.node === node)!;
  t.uses = t.uses.filter((u) => u !== use);
  const own: QuantTarget = { ...t, key: t.key.replace(t.tensor, tensor), tensor, uses: [use], tags: [...t.tags] };
  delete own.params;
  if (t.uses.length === 0) plan.targets.splice(i, 1, own);
  else plan.targets.splice(i + 1, 0, own);
  return own;
}

/**
 * The function-preserving edit at the heart of the reparameterization: LN'(x) = LN(x)/r − b on the LayerNorm
 * (γ' = γ/r, β' = β/r − b), W' = W·diag(r) and bias' = bias + W'·b on every consumer. Also used with b = 0 to
 * make stress variants (models/stress.ts). Returns the consumers that got a new bias Add and each consumer's
 * (private) weight initializer.
 */
export function rescalePostLn(
  graph: Graph,
  b: GraphBuilder,
  byName: ReadonlyMap<string, Node>,
  pair: PostLnPair,
  f: Pick<ReparamFactors, 'r' | 'b'>,
): { newBias: string[]; weights: [string, string][] } {
  const { gamma, beta } = affineOf(graph, b, pair);
  const gv = toFloat32(graph.initializers.get(gamma)!);
  const bv = toFloat32(graph.initializers.get(beta)!);
  for (let c = 0; c < pair.channels; c++) {
    gv[c] = f32(gv[c]! / f.r[c]!);
    bv[c] = f32(f32(bv[c]! / f.r[c]!) - f.b[c]!);
  }
  setValues(graph, gamma, gv);
  setValues(graph, beta, bv);
  const newBias: string[] = [];
  const weights: [string, string][] = [];
  const anyShift = f.b.some((v) => v !== 0);
  for (const c of pair.consumers) {
    const node = byName.get(c.node);
    if (node === undefined) throw modelError(`consumer ${c.node} is not in the graph`);
    const { weight, shift } = scaleWeight(graph, b, node, f);
    if (anyShift && absorbShift(graph, b, node, shift)) newBias.push(c.node);
    weights.push([c.node, weight]);
  }
  return { newBias, weights };
}

/**
 * Reparameterizes every pair in place on `graph` and `plan`: LayerNorm γ/β, consumer weights and biases, and the
 * pair's quantizer (per-channel -> per-tensor). Returns what changed, and the weight targets pass 2 must re-fit.
 */
export function reparameterize(
  graph: Graph,
  plan: QuantPlan,
  pairs: readonly PostLnPair[],
  roundZeroPoint: boolean,
): { records: ReparamRecord[]; refit: QuantTarget[] } {
  const b = new GraphBuilder(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const records: ReparamRecord[] = [];
  const refit: QuantTarget[] = [];
  for (const pair of pairs) {
    const t = plan.targets.find((x) => x.role === 'activation' && x.tensor === pair.tensor);
    const p = t?.params;
    if (t === undefined || p?.kind !== 'uniform' || p.axis === null || p.scale.length !== pair.channels)
      throw modelError(`post-LayerNorm tensor ${pair.tensor} has no channel-wise quantizer to reparameterize`);
    const f = reparamFactors(p, roundZeroPoint);
    const { newBias, weights } = rescalePostLn(graph, b, byName, pair, f);
    for (const [node, weight] of weights) refit.push(refitWeight(plan, node, weight));
    t.params = makeUniformParams({
      bits: p.bits,
      symmetric: false,
      axis: null,
      scale: [f.scale],
      zeroPoint: [f.zeroPoint],
    });
    t.axis = null;
    t.tags.push('reparameterized');
    let rMin = Infinity;
    let rMax = -Infinity;
    for (const r of f.r) [rMin, rMax] = [Math.min(rMin, r), Math.max(rMax, r)];
    records.push({
      norm: pair.name,
      tensor: pair.tensor,
      consumers: pair.consumers.map((c) => c.node),
      channels: pair.channels,
      scale: t.params.scale[0]!,
      zeroPoint: t.params.zeroPoint[0]!,
      meanZeroPoint: f.meanZeroPoint,
      rMin,
      rMax,
      newBias,
      channelWise: p,
    });
  }
  graph.topoSort();
  return { records, refit };
}
