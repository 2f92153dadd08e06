// The one pass that turns a calibrated QuantPlan into a simulated model: every quantizer becomes standard ONNX ops
// (so ORT runs the simulation at full speed, at any bit width), and each marked use reads the quantized value.
// Weights are quantized once here in TypeScript and stored as new float initializers; activations get op chains.

import { cloneModel } from '../onnx/clone.js';
import { GraphBuilder } from '../onnx/builder.js';
import type { Graph, Model } from '../onnx/ir.js';
import { names } from '../onnx/naming.js';
import { toFloat32, makeTensor } from '../onnx/tensor.js';
import { modelError } from '../errors.js';
import type { LogParams, QuantParams, UniformParams } from './qparams.js';
import { fakeQuantUniform } from './quantizers.js';
import { fakeQuantLog } from './log-quantizers.js';
import type { QuantPlan, QuantTarget } from './plan.js';
import { eliminateDeadCode } from '../onnx/rewrite/dce.js';

/** Shape that broadcasts per-channel params along `axis` of a rank-`rank` tensor (trailing-aligned). */
export function channelShape(axis: number, rank: number, channels: number): number[] {
  return [channels, ...new Array<number>(rank - 1 - axis).fill(1)];
}

function paramTensor(b: GraphBuilder, base: string, values: readonly number[], shape: number[]): string {
  return b.init(b.namer.fresh(base), Float32Array.from(values), shape);
}

/** The values a uniform quantizer's op chain reads: initializers, or graph inputs (sequential calibration). */
export interface UniformOperands {
  scale: string;
  /** null: the zero-point is 0 and the Add/Sub pair is left out */
  zeroPoint: string | null;
  qmin: string;
  qmax: string;
}

/** Uniform fake quant as ops: x̂ = (clip(round(x/s) + z, qmin, qmax) − z)·s, rounding before adding z (RepQ-ViT). */
export function emitUniform(
  b: GraphBuilder,
  x: string,
  p: UniformParams,
  rank: number | undefined,
  base: string,
): string {
  let shape: number[] = [];
  if (p.axis !== null) {
    if (rank === undefined) throw modelError(`per-channel quantizer on ${x} needs the tensor's rank`);
    shape = channelShape(p.axis, rank, p.scale.length);
  }
  const s = paramTensor(b, names.scale(base), p.scale, shape);
  const z = paramTensor(b, names.zeroPoint(base), p.zeroPoint, shape);
  const lo = paramTensor(b, `${base}__qmin`, [p.qmin], []);
  const hi = paramTensor(b, `${base}__qmax`, [p.qmax], []);
  const zeroIsZero = p.zeroPoint.every((v) => v === 0);
  return emitUniformOps(b, x, { scale: s, zeroPoint: zeroIsZero ? null : z, qmin: lo, qmax: hi }, base);
}

/** The uniform op chain over given operands (the parameters may then change from run to run). */
export function emitUniformOps(b: GraphBuilder, x: string, o: UniformOperands, base: string): string {
  const r = b.op(
    'Round',
    [b.op('Div', [x, o.scale], {}, { name: names.node(base, 'div') })],
    {},
    { name: names.node(base, 'round') },
  );
  const z = o.zeroPoint;
  const shifted = z === null ? r : b.op('Add', [r, z], {}, { name: names.node(base, 'add_zp') });
  const clipped = b.op('Clip', [shifted, o.qmin, o.qmax], {}, { name: names.node(base, 'clip') });
  const centered = z === null ? clipped : b.op('Sub', [clipped, z], {}, { name: names.node(base, 'sub_zp') });
  return b.op('Mul', [centered, o.scale], {}, { name: names.node(base, 'mul_scale') });
}

/**
 * Log fake quant as ops. Codes c = round(−k·log2(x/δ)) with k = 2 (log-sqrt2) or 1 (log2); c ≥ 2^b underflows to
 * 0, c < 0 saturates at δ; x̂ = δ·2^(−c/k).
 */
export function emitLog(b: GraphBuilder, x: string, p: LogParams, base: string): string {
  const delta = paramTensor(b, names.scale(base), [p.scale], []);
  return emitLogOps(b, x, delta, p.kind, p.bits, base);
}

/** The log op chain with δ read from `delta` (an initializer or a graph input). */
export function emitLogOps(
  b: GraphBuilder,
  x: string,
  delta: string,
  kind: LogParams['kind'],
  bits: number,
  base: string,
): string {
  const k = kind === 'logsqrt2' ? 2 : 1;
  const levels = 2 ** bits;
  const negK = paramTensor(b, `${base}__neg_k_over_ln2`, [-k / Math.LN2], []);
  const lo = paramTensor(b, `${base}__qmin`, [0], []);
  const hi = paramTensor(b, `${base}__qmax`, [levels - 1], []);
  const lv = paramTensor(b, `${base}__levels`, [levels], []);
  const two = paramTensor(b, `${base}__two`, [2], []);
  const invK = paramTensor(b, `${base}__neg_inv_k`, [-1 / k], []);
  const zero = paramTensor(b, `${base}__zero`, [0], []);
  const ratio = b.op('Div', [x, delta], {}, { name: names.node(base, 'div') });
  const code = b.op(
    'Round',
    [
      b.op(
        'Mul',
        [b.op('Log', [ratio], {}, { name: names.node(base, 'log') }), negK],
        {},
        { name: names.node(base, 'mul_log2') },
      ),
    ],
    {},
    { name: names.node(base, 'round') },
  );
  const under = b.op('GreaterOrEqual', [code, lv], {}, { name: names.node(base, 'underflow') });
  const q = b.op('Clip', [code, lo, hi], {}, { name: names.node(base, 'clip') });
  const pow = b.op(
    'Pow',
    [two, b.op('Mul', [q, invK], {}, { name: names.node(base, 'exponent') })],
    {},
    { name: names.node(base, 'pow') },
  );
  const y = b.op('Mul', [pow, delta], {}, { name: names.node(base, 'mul_scale') });
  return b.op('Where', [under, zero, y], {}, { name: names.node(base, 'where') });
}

/**
 * Replaces the op chain of selected activation quantizers, e.g. by another form that computes the same values
 * (RepQ-ViT's bit-shift form of log-sqrt2). Returns the quantized value, or undefined for the default chain.
 */
export type EmitOverride = (b: GraphBuilder, g: Graph, t: QuantTarget, base: string) => string | undefined;

export interface FakeQuantOptions {
  emit?: EmitOverride;
}

export function emitQuantizer(b: GraphBuilder, g: Graph, x: string, p: QuantParams, base: string): string {
  if (p.kind === 'uniform') return emitUniform(b, x, p, g.typeOf(x)?.shape?.length, base);
  return emitLog(b, x, p, base);
}

function requireParams(t: QuantTarget): QuantParams {
  if (t.params === undefined) throw modelError(`quantizer ${t.key} has no parameters (not calibrated)`);
  return t.params;
}

/** Quantize a weight initializer in TypeScript; returns the new initializer's name. */
function foldWeight(b: GraphBuilder, t: QuantTarget, p: QuantParams): string {
  const w = b.graph.initializers.get(t.tensor);
  if (w === undefined) throw modelError(`weight ${t.tensor} is not an initializer`);
  const data = toFloat32(w);
  const out = p.kind === 'uniform' ? fakeQuantUniform(data, w.dims, p) : fakeQuantLog(data, p);
  const name = b.namer.fresh(`${t.tensor}__fq`);
  b.graph.initializers.set(name, makeTensor(name, out, w.dims));
  return name;
}

/** A simulated copy of `model` with every quantizer of `plan` in place. */
export function applyFakeQuant(model: Model, plan: QuantPlan, opts: FakeQuantOptions = {}): Model {
  const out = cloneModel(model);
  const g = out.graph;
  const b = new GraphBuilder(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  for (const t of plan.targets) {
    const p = requireParams(t);
    const base = `${t.key}__fq`;
    const q =
      t.role === 'weight'
        ? foldWeight(b, t, p)
        : (opts.emit?.(b, g, t, base) ?? emitQuantizer(b, g, t.tensor, p, base));
    for (const use of t.uses) {
      const node = byName.get(use.node);
      if (node === undefined) throw modelError(`quantized use ${use.node} is not in the graph`);
      g.setNodeInput(node, use.input, q);
    }
  }
  // The float weights (and Identity chains in front of them) that only quantized uses read are now dead.
  eliminateDeadCode(g);
  g.topoSort();
  return out;
}
