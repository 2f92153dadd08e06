// Reverse-mode differentiation of an ONNX graph into one ONNX graph that computes the loss and its gradients in a
// single ORT run. The forward nodes stay as they are (the backward reads their outputs, nothing is recomputed);
// only nodes on a path from a wrt value to the loss are differentiated, composites on such paths are first
// decomposed, and whatever the outputs do not need is removed at the end. Imports onnx/ and the rules; not the
// runtime.

import { GraphBuilder } from '../onnx/builder.js';
import type { Graph, Model, Node, Tensor } from '../onnx/ir.js';
import { names } from '../onnx/naming.js';
import { eliminateDeadCode } from '../onnx/rewrite/dce.js';
import type { HostTensor } from '../util/host-tensor.js';
import { typedData } from '../onnx/tensor.js';
import { unsupportedError } from '../errors.js';
import { GradContext } from './rule.js';
import { RULES, differentiableOps } from './registry.js';
import { prepareForward, type Forward, type GradientOptions } from './prepare.js';
import { inferShapes, type ShapeMap } from './shapes.js';

export interface GradientGraph {
  /** inputs: the graph inputs (wrt initializers included unless kept); outputs: the loss, then the gradients */
  model: Model;
  loss: string;
  /** wrt name -> output name of its gradient (`grad_<name>`, suffixed if that name is taken) */
  gradients: Record<string, string>;
  /** per MSE loss term: value -> the graph input to feed its target with */
  targets: Record<string, string>;
  /** initial values of the wrt initializers (the parameters to update), as float host tensors */
  parameters: Record<string, HostTensor>;
  /** graph inputs to feed every run, in order (parameters included unless kept as initializers) */
  inputs: string[];
}

function isFloat(known: ShapeMap, v: string): boolean {
  const d = known.get(v)?.dtype;
  return d === 'float32' || d === 'float64';
}

/** Float values that depend on a wrt value. */
function activeValues(g: Graph, known: ShapeMap, wrt: readonly string[]): Set<string> {
  const active = new Set(wrt);
  for (const node of g.nodes)
    if (node.inputs.some((i) => active.has(i))) for (const o of node.outputs) if (isFloat(known, o)) active.add(o);
  return active;
}

/** Replaces active composite nodes by primitive ops (with shapes), returning whether any changed. */
function decompose(ctx: GradContext, known: ShapeMap, active: ReadonlySet<string>): boolean {
  const g = ctx.graph;
  const before = new Set(g.nodes);
  const targets = g.nodes.filter((n) => RULES[n.opType]?.decompose && n.inputs.some((i) => active.has(i)));
  for (const node of targets) {
    g.removeNode(node);
    ctx.at(node, 'decomposed');
    RULES[node.opType]!.decompose!(ctx, node);
  }
  if (targets.length === 0) return false;
  g.topoSort();
  inferShapes(
    g,
    g.nodes.filter((n) => !before.has(n)),
    known,
    ctx.opset,
  );
  return true;
}

function backward(
  ctx: GradContext,
  f: Forward,
  wrt: readonly string[],
  active: ReadonlySet<string>,
): Map<string, string> {
  const g = ctx.graph;
  const contributions = new Map<string, string[]>();
  const total = (v: string): string | undefined => {
    const list = contributions.get(v);
    if (list === undefined || list.length === 0) return undefined;
    if (list.length > 1) contributions.set(v, [ctx.op(list.length === 2 ? 'Add' : 'Sum', list)]);
    return contributions.get(v)![0];
  };
  const dt = ctx.dtype(f.loss);
  ctx.at(f.loss);
  contributions.set(f.loss, [ctx.tensor([1], ctx.shape(f.loss), dt)]);
  const nodes: Node[] = [...g.nodes].reverse();
  for (const node of nodes) {
    ctx.at(node);
    const dys = node.outputs.map((o) => (active.has(o) ? total(o) : undefined));
    const needs = node.inputs.map((i) => active.has(i));
    if (dys.every((d) => d === undefined) || !needs.some((n) => n)) continue;
    const rule = RULES[node.opType];
    if (rule?.grad === undefined || (node.domain !== '' && node.domain !== 'ai.onnx'))
      throw unsupportedError(
        `node ${node.name} (${node.opType}) is on the path from ${wrt.join(', ')} to the loss and has no gradient rule`,
        `differentiable ops: ${differentiableOps.join(', ')}`,
      );
    ctx.enter(node, dys, needs);
    const dxs = rule.grad(ctx);
    node.inputs.forEach((input, i) => {
      const dx = dxs[i];
      if (!needs[i] || dx === undefined) return;
      contributions.set(input, [...(contributions.get(input) ?? []), dx]);
    });
  }
  const grads = new Map<string, string>();
  for (const w of wrt) {
    const name = ctx.builder.namer.fresh(names.gradient(w));
    ctx.at(`grad_${w}`);
    const sum = total(w) ?? ctx.zeros(ctx.shape(w), ctx.dtype(w));
    ctx.op('Identity', [sum], {}, name);
    grads.set(w, name);
  }
  return grads;
}

function hostOf(t: Tensor): HostTensor {
  if (t.dtype !== 'float32' && t.dtype !== 'float64')
    throw unsupportedError(`parameter ${t.name} is ${t.dtype}, not float`);
  return { dtype: t.dtype, dims: [...t.dims], data: (typedData(t) as Float32Array | Float64Array).slice() };
}

/**
 * Builds the gradient graph of `opts.loss` with respect to `opts.wrt`. One `Session.run` of the result computes
 * the loss and every gradient; parameters are fed as inputs (see `parameters` for their initial values).
 */
export function buildGradientGraph(source: Model | Graph, opts: GradientOptions): GradientGraph {
  const f = prepareForward(source, opts);
  const g = f.model.graph;
  const ctx = new GradContext(new GraphBuilder(g), f.known, f.opset);
  const wrt = [...new Set(opts.wrt)];
  for (const w of wrt) ctx.dtype(w);
  let active = activeValues(g, f.known, wrt);
  if (decompose(ctx, f.known, active)) active = activeValues(g, f.known, wrt);
  const grads = backward(ctx, f, wrt, active);
  const extra = (opts.outputs ?? []).filter((o) => o !== f.loss);
  g.outputs = [f.loss, ...grads.values(), ...extra].map((name, i) => {
    const source = i === 0 ? f.loss : i <= grads.size ? wrt[i - 1]! : name;
    const k = f.known.get(source);
    return { name, type: { dtype: k?.dtype ?? 'float32', shape: k?.dims } };
  });
  eliminateDeadCode(g);
  g.topoSort();
  if (opts.keepInitializers === true)
    for (const [w, t] of f.parameters) {
      g.inputs = g.inputs.filter((i) => i.name !== w);
      g.initializers.set(w, t);
    }
  const parameters: Record<string, HostTensor> = {};
  for (const [w, t] of f.parameters) parameters[w] = hostOf(t);
  return {
    model: f.model,
    loss: f.loss,
    gradients: Object.fromEntries(grads),
    targets: f.targets,
    parameters,
    inputs: g.inputs.map((i) => i.name),
  };
}
