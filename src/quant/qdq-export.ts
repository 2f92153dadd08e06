// The deployable export: QuantizeLinear/DequantizeLinear where a quantizer has that form. Weights are stored as
// integer initializers with a DequantizeLinear (so the file shrinks), activations get a Q->DQ pair that ORT fuses
// into integer kernels. A quantizer QDQ cannot express (log quantizers, fractional or out-of-range zero-points,
// grids that are not a whole integer type, 4-bit below opset 21) is emulated with the fake-quant ops instead, and
// the reason is reported.

import { cloneModel } from '../onnx/clone.js';
import { GraphBuilder } from '../onnx/builder.js';
import { defaultOpset, type Model, type Tensor } from '../onnx/ir.js';
import type { DType } from '../onnx/dtype.js';
import { names } from '../onnx/naming.js';
import { makeTensor, toFloat32 } from '../onnx/tensor.js';
import { modelError } from '../errors.js';
import { qdqDTypeFor, qdqIncompatibility, type IntDType, type QuantParams, type UniformParams } from './qparams.js';
import { fakeQuant, quantizeUniform } from './quantizers.js';
import { emitQuantizer, type FakeQuantOptions } from './fake-quant.js';
import { eliminateDeadCode } from '../onnx/rewrite/dce.js';
import { activationInputs, type QuantPlan, type QuantTarget } from './plan.js';

export interface QdqReport {
  /** quantizers written as QuantizeLinear/DequantizeLinear */
  qdq: number;
  /** quantizers emulated with standard float ops, with the reason */
  emulated: { key: string; reason: string }[];
  /** whether the export changed the model's opset (4-bit needs 21), and why not when it could not */
  opsetNote?: string;
}

/** Pack integer codes into the raw bytes of an ONNX tensor of `dtype` (4-bit: two per byte, low nibble first). */
export function packCodes(codes: Float32Array, dtype: IntDType): Uint8Array {
  switch (dtype) {
    case 'int8':
      return new Uint8Array(Int8Array.from(codes).buffer);
    case 'uint8':
      return Uint8Array.from(codes);
    case 'int16':
      return new Uint8Array(Int16Array.from(codes).buffer);
    case 'uint16':
      return new Uint8Array(Uint16Array.from(codes).buffer);
    case 'int4':
    case 'uint4': {
      const out = new Uint8Array(Math.ceil(codes.length / 2));
      for (let i = 0; i < codes.length; i++) out[i >> 1]! |= ((codes[i]! & 0xf) << ((i & 1) * 4)) & 0xff;
      return out;
    }
  }
}

/** Why `p` cannot be a QDQ pair in a model of this opset, or its element type. */
export function qdqTypeFor(p: QuantParams, opset: number): { dtype: IntDType } | { reason: string } {
  const dtype = qdqDTypeFor(p);
  if (dtype === null)
    return {
      reason:
        p.kind === 'uniform'
          ? `${p.bits}-bit grid is not an ONNX integer type`
          : `${p.kind} quantizer has no QuantizeLinear form`,
    };
  const why = qdqIncompatibility(p, dtype);
  if (why !== null) return { reason: why };
  if ((dtype === 'int4' || dtype === 'uint4' || dtype.endsWith('16')) && opset < 21)
    return { reason: `${dtype} QuantizeLinear needs opset 21 (model is opset ${opset})` };
  return { dtype };
}

function addParams(b: GraphBuilder, base: string, p: UniformParams, dtype: IntDType): { s: string; z: string } {
  const perChannel = p.axis !== null;
  const shape = perChannel ? [p.scale.length] : [];
  const s = b.init(b.namer.fresh(names.scale(base)), Float32Array.from(p.scale), shape);
  const zName = b.namer.fresh(names.zeroPoint(base));
  b.graph.initializers.set(zName, {
    name: zName,
    dtype: dtype as DType,
    dims: shape,
    data: packCodes(Float32Array.from(p.zeroPoint), dtype),
  });
  return { s, z: zName };
}

function axisAttr(p: UniformParams): Record<string, number> {
  return p.axis === null ? {} : { axis: p.axis };
}

/**
 * Which 4-bit MatMul/Gemm weights must stay emulated although they have a QDQ form: those whose node reads an
 * activation that is not a Q/DQ pair (emulated, or left in float). ORT fuses DequantizeLinear(int4) + MatMul
 * into MatMulNBits, which re-quantizes a float activation to int8 on the fly, so the outputs would no longer be
 * the simulation's (15 % of the logit range on the tiny DeiT with RepQ-ViT's fractional zero-points).
 */
function floatActivationReaders(model: Model, plan: QuantPlan, opset: number): Set<string> {
  const g = model.graph;
  const qdqUses = new Set<string>();
  for (const t of plan.targets)
    if (t.role === 'activation' && t.params !== undefined && !('reason' in qdqTypeFor(t.params, opset)))
      for (const u of t.uses) qdqUses.add(`${u.node}:${u.input}`);
  const readers = new Set<string>();
  for (const n of g.nodes)
    if (
      (n.opType === 'MatMul' || n.opType === 'Gemm') &&
      activationInputs(g, n).some((i) => !qdqUses.has(`${n.name}:${i}`))
    )
      readers.add(n.name);
  return readers;
}

/**
 * A deployable copy of `model` with QDQ (or emulated) quantizers for every target of a calibrated `plan`.
 * `opts.emit` chooses the op chain of emulated activation quantizers (as in applyFakeQuant).
 */
export function exportQdq(
  model: Model,
  plan: QuantPlan,
  opts: FakeQuantOptions = {},
): { model: Model; report: QdqReport } {
  const out = cloneModel(model);
  const g = out.graph;
  const b = new GraphBuilder(g);
  const opset = defaultOpset(out);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const report: QdqReport = { qdq: 0, emulated: [] };
  const floatReaders = floatActivationReaders(out, plan, opset);
  const rewire = (t: QuantTarget, value: string) => {
    for (const use of t.uses) {
      const node = byName.get(use.node);
      if (node === undefined) throw modelError(`quantized use ${use.node} is not in the graph`);
      g.setNodeInput(node, use.input, value);
    }
  };
  for (const t of plan.targets) {
    const p = t.params;
    if (p === undefined) throw modelError(`quantizer ${t.key} has no parameters (not calibrated)`);
    let kind = qdqTypeFor(p, opset);
    if (
      t.role === 'weight' &&
      'dtype' in kind &&
      (kind.dtype === 'int4' || kind.dtype === 'uint4') &&
      t.uses.some((u) => floatReaders.has(u.node))
    )
      kind = {
        reason: `${kind.dtype} weight of a MatMul with a float activation (ORT would fuse it into MatMulNBits)`,
      };
    const base = `${t.key}__qdq`;
    if ('reason' in kind || p.kind !== 'uniform') {
      report.emulated.push({ key: t.key, reason: 'reason' in kind ? kind.reason : 'not uniform' });
      if (t.role === 'weight') {
        // Emulated weights are stored already fake-quantized: same numbers, no ops to run.
        const w = g.initializers.get(t.tensor)!;
        const name = b.namer.fresh(`${t.tensor}__fq`);
        g.initializers.set(name, {
          name,
          dtype: 'float32',
          dims: [...w.dims],
          data: new Uint8Array(fakeQuant(toFloat32(w), w.dims, p).buffer),
        });
        rewire(t, name);
      } else rewire(t, opts.emit?.(b, g, t, base) ?? emitQuantizer(b, g, t.tensor, p, base));
      continue;
    }
    const { s, z } = addParams(b, base, p, kind.dtype);
    if (t.role === 'weight') {
      const w = g.initializers.get(t.tensor);
      if (w === undefined) throw modelError(`weight ${t.tensor} is not an initializer`);
      const qName = b.namer.fresh(names.quantized(t.tensor));
      const codes = quantizeUniform(toFloat32(w), w.dims, p);
      g.initializers.set(qName, {
        name: qName,
        dtype: kind.dtype as DType,
        dims: [...w.dims],
        data: packCodes(codes, kind.dtype),
      });
      rewire(t, b.op('DequantizeLinear', [qName, s, z], axisAttr(p), { name: names.node(base, 'dequantize') }));
    } else {
      const q = b.op('QuantizeLinear', [t.tensor, s, z], axisAttr(p), { name: names.node(base, 'quantize') });
      rewire(t, b.op('DequantizeLinear', [q, s, z], axisAttr(p), { name: names.node(base, 'dequantize') }));
    }
    report.qdq++;
  }
  // Float weights now only read through their quantized copies (and Identity chains torch left in front of them)
  // are dead: dropping them is what makes the file hold integers, not both.
  eliminateDeadCode(g);
  g.topoSort();
  return { model: out, report };
}

/**
 * `qdq` with the Conv/Gemm biases ORT's BiasQuantization transformer rounds replaced, in float, by the values ORT
 * uses: round(b / (s_x·s_w))·s_x·s_w, read from `optimized` (the graph ORT wrote with optimizedModelPath). Run with
 * optimizations off, it reproduces what ORT runs for `qdq` up to its integer kernels; it is how docs/diffusion.md
 * ("Simulation vs QDQ export") accounts for the export's gap to the simulation. A fused QLinearConv (named after
 * its Conv plus a `_token_N` suffix) holds the int32 codes as input 8, at scale x_scale·w_scale.
 */
export function withOrtRoundedBiases(qdq: Model, optimized: Model): { model: Model; rounded: string[] } {
  const out = cloneModel(qdq);
  const g = out.graph;
  const b = new GraphBuilder(g);
  const opt = optimized.graph;
  const producer = new Map(opt.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const rounded: string[] = [];
  for (const n of opt.nodes) {
    const fused = n.opType === 'QLinearConv';
    if (n.opType !== 'Conv' && n.opType !== 'Gemm' && !fused) continue;
    const target = byName.get(fused ? n.name.replace(/_token_\d+$/, '') : n.name);
    if (target?.inputs[2] === undefined || target.inputs[2] === '') continue;
    let codes: Tensor | undefined;
    let scale: Float32Array | undefined;
    if (fused) {
      codes = opt.initializers.get(n.inputs[8] ?? '');
      const sx = opt.initializers.get(n.inputs[1] ?? '');
      const sw = opt.initializers.get(n.inputs[4] ?? '');
      if (sx === undefined || sw === undefined) continue;
      const x = toFloat32(sx)[0]!;
      scale = toFloat32(sw).map((w) => Math.fround(x * w));
    } else {
      const dq = producer.get(n.inputs[2] ?? '');
      if (dq?.opType !== 'DequantizeLinear') continue;
      codes = opt.initializers.get(dq.inputs[0] ?? '');
      const s = opt.initializers.get(dq.inputs[1] ?? '');
      if (s === undefined) continue;
      scale = toFloat32(s);
    }
    if (codes?.dtype !== 'int32') continue;
    const sc = scale;
    const bias = toFloat32(codes).map((c, i) => Math.fround(c * sc[sc.length === 1 ? 0 : i]!));
    const name = b.namer.fresh(`${target.inputs[2]}__ort_rounded`);
    g.initializers.set(name, makeTensor(name, bias, [bias.length]));
    g.setNodeInput(target, 2, name);
    rounded.push(target.name);
  }
  eliminateDeadCode(g);
  return { model: out, rounded };
}
