// Converting LayerNorms between the two forms: `fuseLayerNorms` replaces each decomposed LayerNorm by one
// LayerNormalization op (raising an opset-13..16 model to 17, see opset.ts), `decomposeLayerNorms` does the
// reverse with the op sequence torch exports (so passes written for one form can run on the other). Output value
// names are kept, so everything downstream stays wired. Imports the IR, naming and the other rewrite modules.

import { Node, defaultOpset, type Attribute, type Graph, type Model } from '../ir.js';
import type { DType } from '../dtype.js';
import { Namer } from '../naming.js';
import { makeTensor } from '../tensor.js';
import { unsupportedError } from '../../errors.js';
import { constantTensor } from './const-value.js';
import { pruneValues } from './dce.js';
import { findLayerNorms, type LayerNorm } from './layernorm.js';
import { raiseDefaultOpset } from './opset.js';

export interface Skipped {
  output: string;
  reason: string;
}

export interface LayerNormRewriteResult {
  rewritten: number;
  skipped: Skipped[];
}

function checkOpset(model: Model): number {
  const opset = defaultOpset(model);
  if (opset < 13 || opset > 21)
    throw unsupportedError(`LayerNorm rewrites support opsets 13 to 21, the model has opset ${opset}`);
  return opset;
}

/** Static dims of the normalized block x.shape[axis:], when the type says so. */
function normalizedDims(graph: Graph, ln: LayerNorm): number[] | undefined {
  const shape = graph.typeOf(ln.input)?.shape;
  if (shape === undefined || ln.axis >= 0) return undefined;
  const block = shape.slice(shape.length + ln.axis);
  return block.every((d) => typeof d === 'number') ? (block as number[]) : undefined;
}

/**
 * Why a Mul/Add parameter of a decomposed LayerNorm cannot become a LayerNormalization Scale/B (which ORT
 * requires to hold exactly one value per normalized element), or undefined when it can.
 */
function paramProblem(graph: Graph, ln: LayerNorm, name: string): string | undefined {
  const t = constantTensor(graph, name);
  if (t === undefined) return `${name} is not constant`;
  const xType = graph.typeOf(ln.input)?.dtype;
  if (xType !== undefined && t.dtype !== xType) return `${name} is ${t.dtype}, the input is ${xType}`;
  if (t.dims.length !== -ln.axis)
    return `${name} has shape [${t.dims.join(', ')}], not one value per normalized element`;
  const dims = normalizedDims(graph, ln);
  if (dims !== undefined && dims.join() !== t.dims.join())
    return `${name} has shape [${t.dims.join(', ')}], the normalized block is [${dims.join(', ')}]`;
  return undefined;
}

/** A name stem from an exporter's scope (`/blocks.0/norm1/Sub` -> `/blocks.0/norm1/`), or from the output. */
function scopeOf(node: Node, fallback: string): string {
  const i = node.name.lastIndexOf('/');
  return i > 0 ? node.name.slice(0, i + 1) : `${fallback}/`;
}

function fuseOne(graph: Graph, namer: Namer, ln: LayerNorm, gamma: string): void {
  const root = ln.nodes.at(-1)!;
  const outside = new Set([ln.input, gamma, ln.beta]);
  const orphans = ln.nodes.flatMap((n) => n.inputs).filter((v) => !outside.has(v));
  for (const n of ln.nodes) if (n !== root) graph.removeNode(n);
  const index = graph.nodes.indexOf(root);
  graph.removeNode(root);
  const attributes = new Map<string, Attribute>([
    ['axis', { type: 'int', value: BigInt(ln.axis) }],
    ['epsilon', { type: 'float', value: ln.epsilon }],
  ]);
  const inputs = ln.beta === undefined ? [ln.input, gamma] : [ln.input, gamma, ln.beta];
  const name = namer.fresh(`${scopeOf(ln.nodes[0]!, ln.output)}LayerNormalization`);
  graph.addNode(new Node({ name, opType: 'LayerNormalization', inputs, outputs: [ln.output], attributes }), index);
  pruneValues(graph, orphans);
}

/**
 * Replace every decomposed LayerNorm by one LayerNormalization. A model below opset 17 is raised to 17 first
 * (only when something gets fused). A LayerNorm without gamma gets a ones Scale when its normalized shape is
 * static; otherwise, and where gamma/beta do not hold one value per normalized element, it is skipped.
 */
export function fuseLayerNorms(model: Model): LayerNormRewriteResult {
  checkOpset(model);
  const graph = model.graph;
  const namer = new Namer(graph);
  const result: LayerNormRewriteResult = { rewritten: 0, skipped: [] };
  const todo: [LayerNorm, string | undefined][] = [];
  for (const ln of findLayerNorms(graph)) {
    if (ln.kind !== 'decomposed') continue;
    const problem =
      (ln.gamma === undefined
        ? normalizedDims(graph, ln) === undefined
          ? 'no gamma, and the normalized shape is not static'
          : undefined
        : paramProblem(graph, ln, ln.gamma)) ?? (ln.beta === undefined ? undefined : paramProblem(graph, ln, ln.beta));
    if (problem === undefined) todo.push([ln, ln.gamma]);
    else result.skipped.push({ output: ln.output, reason: problem });
  }
  if (todo.length > 0) raiseDefaultOpset(model, 17);
  for (const [ln, given] of todo) {
    let gamma = given;
    if (gamma === undefined) {
      const dims = normalizedDims(graph, ln)!;
      const dtype = graph.typeOf(ln.input)?.dtype ?? 'float32';
      gamma = namer.fresh(`${ln.output}_scale`);
      graph.initializers.set(gamma, makeTensor(gamma, onesOf(dtype, dims), dims, dtype));
    }
    fuseOne(graph, namer, ln, gamma);
    result.rewritten++;
  }
  return result;
}

function onesOf(dtype: DType, dims: number[]): Float32Array | Float64Array {
  const n = dims.reduce((a, b) => a * b, 1);
  return dtype === 'float64' ? new Float64Array(n).fill(1) : new Float32Array(n).fill(1);
}

function scalarOf(name: string, dtype: DType, value: number) {
  return makeTensor(name, dtype === 'float64' ? Float64Array.of(value) : Float32Array.of(value), [], dtype);
}

function used(graph: Graph, value: string | undefined): boolean {
  return value !== undefined && value !== '' && (graph.consumersOf(value).length > 0 || graph.isGraphOutput(value));
}

function decomposeOne(graph: Graph, namer: Namer, ln: LayerNorm, dtype: DType, axesAsInput: boolean): void {
  const node = ln.nodes[0]!;
  const scope = node.name.endsWith('LayerNormalization')
    ? node.name.slice(0, -'LayerNormalization'.length)
    : `${node.name === '' ? ln.output : node.name}/`;
  const constant = (stem: string, t: (name: string) => ReturnType<typeof makeTensor>) => {
    const name = namer.fresh(`${scope}${stem}`);
    graph.initializers.set(name, t(name));
    return name;
  };
  const k = -ln.axis;
  const axes = Array.from({ length: k }, (_, i) => i - k);
  const axesInput = axesAsInput ? constant('axes', (n) => makeTensor(n, BigInt64Array.from(axes, BigInt), [k])) : '';
  const eps = constant('epsilon', (n) => scalarOf(n, dtype, ln.epsilon));
  const two = constant('two', (n) => scalarOf(n, dtype, 2));
  const index = graph.nodes.indexOf(node);
  graph.removeNode(node);
  const added: Node[] = [];
  const op = (opType: string, inputs: string[], output?: string, reduce = false) => {
    const name = namer.fresh(`${scope}${opType}`);
    const out = output ?? namer.fresh(`${name}_output_0`);
    const attributes = new Map<string, Attribute>();
    if (reduce && !axesAsInput) attributes.set('axes', { type: 'ints', value: axes.map(BigInt) });
    added.push(
      new Node({
        name,
        opType,
        inputs: reduce && axesAsInput ? [...inputs, axesInput] : inputs,
        outputs: [out],
        attributes,
      }),
    );
    return out;
  };
  const mean = op('ReduceMean', [ln.input], undefined, true);
  const centered = op('Sub', [ln.input, mean]);
  const variance = op('ReduceMean', [op('Pow', [centered, two])], undefined, true);
  const norm = op('Div', [centered, op('Sqrt', [op('Add', [variance, eps])])]);
  const scaled = op('Mul', [norm, ln.gamma!], ln.beta === undefined ? ln.output : undefined);
  if (ln.beta !== undefined) op('Add', [scaled, ln.beta], ln.output);
  added.forEach((n, i) => graph.addNode(n, index + i));
}

/**
 * Replace every LayerNormalization by the decomposed ops (ReduceMean axes as an attribute below opset 18, as an
 * input from 18). Skipped: LayerNorms whose Mean/InvStdDev outputs are used, whose first axis is positive with
 * an unknown rank, or whose type is not float32/float64.
 */
export function decomposeLayerNorms(model: Model): LayerNormRewriteResult {
  const opset = checkOpset(model);
  const graph = model.graph;
  const namer = new Namer(graph);
  const result: LayerNormRewriteResult = { rewritten: 0, skipped: [] };
  for (const ln of findLayerNorms(graph)) {
    if (ln.kind !== 'fused') continue;
    const node = ln.nodes[0]!;
    const dtype = graph.typeOf(ln.input)?.dtype ?? constantTensor(graph, ln.gamma!)?.dtype ?? 'float32';
    const problem = [node.outputs[1], node.outputs[2]].some((o) => used(graph, o))
      ? 'its Mean or InvStdDev output is used'
      : ln.axis >= 0
        ? 'the input rank is unknown and the axis is positive'
        : dtype !== 'float32' && dtype !== 'float64'
          ? `its type is ${dtype}`
          : undefined;
    if (problem !== undefined) {
      result.skipped.push({ output: ln.output, reason: problem });
      continue;
    }
    decomposeOne(graph, namer, ln, dtype, opset >= 18);
    result.rewritten++;
  }
  return result;
}
