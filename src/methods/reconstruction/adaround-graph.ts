// AdaRound's soft-quantized weights as graph ops (q-diffusion.md §3.2), on an extracted unit: every uniform weight
// quantizer of the (restricted) plan becomes W̃ = (clip(floor(W/Δ) + z + h(α), qmin, qmax) − z)·Δ with the rectified
// sigmoid h(α) = clip(sigmoid(α)(ζ − γ) + γ, 0, 1); Δ and z are the initialised quantizer's, frozen. α is an
// initializer (differentiated, so it becomes a graph input) initialised so that h(α) = frac(W/Δ), i.e. W̃ = W at the
// start wherever W is inside the grid. The rounding regulariser λ·Σ(1 − |2h(α) − 1|^β) is built per weight, with
// β and λ graph inputs, so one gradient graph serves the whole schedule (λ = 0 during warm-up). Activation quantizers
// are left out (weight reconstruction is W-only). The TypeScript side: hard rounding 1[α ≥ 0] and the rounded
// weights on the quantizer's grid. Imports the IR, builder and quant/; not the runtime.

import { GraphBuilder } from '../../onnx/builder.js';
import { cloneModel } from '../../onnx/clone.js';
import type { Model } from '../../onnx/ir.js';
import { names } from '../../onnx/naming.js';
import { toFloat32 } from '../../onnx/tensor.js';
import { unsupportedError } from '../../errors.js';
import { channelShape } from '../../quant/fake-quant.js';
import { channelLayout } from '../../quant/layout.js';
import type { QuantPlan } from '../../quant/plan.js';
import type { UniformParams } from '../../quant/qparams.js';
import { roundHalfEvenF32 } from '../../quant/round.js';

export const ZETA = 1.1;
export const GAMMA = -0.1;

const f32 = Math.fround;

/** One weight under AdaRound: its layout, the floor codes and the current α. */
export interface RoundedWeight {
  /** the weight initializer */
  tensor: string;
  dims: number[];
  params: UniformParams;
  /** floor(W/Δ), float32 division as the fake-quant graph divides */
  floor: Float32Array;
  /** 1 where nearest rounding (half to even) rounds up from the floor */
  nearestUp: Uint8Array;
  /** AdaRound's α (the trainable parameter), laid out as W */
  alpha: Float32Array;
  /** the α input of the training graph */
  alphaName: string;
  /** whether the rounding regulariser includes this weight */
  regularized: boolean;
}

export interface AdaRoundGraph {
  model: Model;
  weights: RoundedWeight[];
  /** scalar graph inputs */
  beta: string;
  lambda: string;
  /** values whose sum is the regulariser (already multiplied by λ) */
  regularizers: string[];
}

/** Per element: the channel's scale and zero-point. */
function perElement(p: UniformParams, dims: readonly number[], n: number): { s: Float32Array; z: Float32Array } {
  const { outer, channels, inner } = channelLayout(dims, p.axis, n);
  const s = new Float32Array(n);
  const z = new Float32Array(n);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++) {
      const at = (o * channels + c) * inner;
      s.fill(p.scale[c]!, at, at + inner);
      z.fill(p.zeroPoint[c]!, at, at + inner);
    }
  return { s, z };
}

/** α with h(α) = frac(W/Δ): α = −log((ζ − γ)/(rest − γ) − 1). */
export function initialAlpha(rest: number): number {
  return -Math.log((ZETA - GAMMA) / (rest - GAMMA) - 1);
}

/** The rectified sigmoid. */
export function rectifiedSigmoid(alpha: number): number {
  const v = (1 / (1 + Math.exp(-alpha))) * (ZETA - GAMMA) + GAMMA;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function prepareWeight(model: Model, tensor: string, p: UniformParams, regularized: boolean): RoundedWeight {
  const t = model.graph.initializers.get(tensor);
  if (t === undefined) throw unsupportedError(`AdaRound: weight ${tensor} is not an initializer of the unit`);
  if (t.dtype !== 'float32')
    throw unsupportedError(`AdaRound: weight ${tensor} is ${t.dtype}; only float32 is handled`);
  const w = toFloat32(t);
  const { s } = perElement(p, t.dims, w.length);
  const floor = new Float32Array(w.length);
  const nearestUp = new Uint8Array(w.length);
  const alpha = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const x = f32(w[i]! / s[i]!);
    const fl = Math.floor(x);
    floor[i] = fl;
    nearestUp[i] = roundHalfEvenF32(x) > fl ? 1 : 0;
    alpha[i] = initialAlpha(x - fl);
  }
  return { tensor, dims: [...t.dims], params: p, floor, nearestUp, alpha, alphaName: '', regularized };
}

/**
 * The unit's training model (before differentiation). `plan` is the plan restricted to the unit; its uniform weight
 * quantizers become AdaRound's. `unregularized` names weights whose α gets no rounding penalty (§3.2's quirk).
 */
export function buildAdaRoundGraph(
  unitModel: Model,
  plan: QuantPlan,
  unregularized: ReadonlySet<string> = new Set(),
): AdaRoundGraph {
  const model = cloneModel(unitModel);
  const g = model.graph;
  const b = new GraphBuilder(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const c = (base: string, v: number) =>
    b.init(b.namer.fresh(names.methodValue('adaround', base)), Float32Array.of(v), []);
  const beta = b.input(b.namer.fresh(names.methodValue('adaround', 'beta')), 'float32', []);
  const lambda = b.input(b.namer.fresh(names.methodValue('adaround', 'lambda')), 'float32', []);
  const [zero, one, two] = [c('zero', 0), c('one', 1), c('two', 2)];
  const [span, gamma] = [c('zeta_minus_gamma', ZETA - GAMMA), c('gamma', GAMMA)];
  const weights: RoundedWeight[] = [];
  const regularizers: string[] = [];
  for (const t of plan.targets) {
    if (t.role !== 'weight' || t.params?.kind !== 'uniform') continue;
    const p = t.params;
    const rw = prepareWeight(model, t.tensor, p, !unregularized.has(t.tensor));
    const rank = rw.dims.length;
    const shape = p.axis === null ? [] : channelShape(p.axis, rank, p.scale.length);
    const base = names.trained(t.key, 'adaround');
    const { z } = perElement(p, rw.dims, rw.floor.length);
    const floorZ = b.init(
      b.namer.fresh(names.part(base, 'floor_plus_zp')),
      rw.floor.map((v, i) => v + z[i]!),
      rw.dims,
    );
    rw.alphaName = b.init(b.namer.fresh(names.part(base, 'alpha')), rw.alpha, rw.dims);
    const s = b.init(b.namer.fresh(names.part(base, 'scale')), Float32Array.from(p.scale), shape);
    const zp = b.init(b.namer.fresh(names.part(base, 'zero_point')), Float32Array.from(p.zeroPoint), shape);
    const [qmin, qmax] = [c('qmin', p.qmin), c('qmax', p.qmax)];
    const soft = b.op('Add', [b.op('Mul', [b.op('Sigmoid', [rw.alphaName]), span]), gamma]);
    const h = b.op('Clip', [soft, zero, one]);
    const q = b.op('Clip', [b.op('Add', [floorZ, h]), qmin, qmax]);
    const wq = b.op('Mul', [b.op('Sub', [q, zp]), s]);
    for (const use of t.uses) {
      const node = byName.get(use.node);
      if (node !== undefined) g.setNodeInput(node, use.input, wq);
    }
    if (rw.regularized) {
      const centered = b.op('Abs', [b.op('Sub', [b.op('Mul', [h, two]), one])]);
      regularizers.push(b.op('Mul', [b.op('Sub', [one, b.op('Pow', [centered, beta])]), lambda]));
    }
    weights.push(rw);
  }
  g.topoSort();
  return { model, weights, beta, lambda, regularizers };
}

/** AdaRound's hard rounding, 1[α ≥ 0] (as 1/0 per element). */
export function hardRounding(w: RoundedWeight): Uint8Array {
  return Uint8Array.from(w.alpha, (a) => (a >= 0 ? 1 : 0));
}

/**
 * The weight with the given rounding (1 = up from the floor) on the quantizer's grid:
 * (clip(floor(W/Δ) + up + z, qmin, qmax) − z)·Δ in float32. Written back as the initializer, the fake-quant pass
 * and the QDQ export reproduce exactly these codes.
 */
export function roundedWeight(w: RoundedWeight, up: Uint8Array): Float32Array {
  const { qmin, qmax } = w.params;
  const { s, z } = perElement(w.params, w.dims, w.floor.length);
  const out = new Float32Array(w.floor.length);
  for (let i = 0; i < out.length; i++) {
    const q = w.floor[i]! + up[i]! + z[i]!;
    out[i] = f32(f32((q < qmin ? qmin : q > qmax ? qmax : q) - z[i]!) * s[i]!);
  }
  return out;
}

/** The soft weight at the current α (as the graph computes it, up to float rounding). */
export function softWeight(w: RoundedWeight): Float32Array {
  const { qmin, qmax } = w.params;
  const { s, z } = perElement(w.params, w.dims, w.floor.length);
  return Float32Array.from(w.floor, (fl, i) => {
    const q = fl + z[i]! + rectifiedSigmoid(w.alpha[i]!);
    return ((q < qmin ? qmin : q > qmax ? qmax : q) - z[i]!) * s[i]!;
  });
}
