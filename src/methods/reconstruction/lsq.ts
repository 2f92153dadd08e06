// Activation step-size learning (q-diffusion.md §4.3, "LSQ" in the reference): for each unit, only the step sizes Δ
// of its uniform activation quantizers are trained (zero-points frozen, 16-bit quantizers left out), through the
// straight-through Round, on FP inputs and FP targets, with the unit's weights at their (hard-rounded) quantized
// values. Loss: Σ_channels |pred − tgt|^2.4 averaged over the rest; Adam lr 4e-4 with cosine decay to 0. The learned
// Δ replace the plan's params. The reference runs 5000 iterations per unit; the default here is 500. Imports the autodiff runner (runtime).

import { Adam, GradientRunner, buildGradientGraph } from '../../autodiff/index.js';
import { GraphBuilder } from '../../onnx/builder.js';
import type { Model } from '../../onnx/ir.js';
import { names } from '../../onnx/naming.js';
import { applyFakeQuant, emitUniformOps } from '../../quant/fake-quant.js';
import type { QuantPlan, QuantTarget } from '../../quant/plan.js';
import type { UniformParams } from '../../quant/qparams.js';
import type { Feeds, SessionOptions } from '../../runtime/index.js';
import { scalarTensor } from '../../util/host-tensor.js';
import { captureUnit, type CaptureOptions } from './capture.js';
import { extractUnit, restrictPlan } from './extract.js';
import type { SplitJoin } from './graph-facts.js';
import { BatchSampler, batchDims, commonSamples, evaluationMean, gather } from './minibatch.js';
import { findUnits } from './units.js';

export const LSQ_DEFAULTS = { iterations: 500, batch: 32, lr: 4e-4, p: 2.4, seed: 0 };

export interface LsqOptions extends SessionOptions {
  iterations?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  splits?: readonly SplitJoin[];
  /** the FP model the inputs and targets come from (default `model`; differs once weights were reconstructed) */
  fp?: Model;
  /** only these unit ids (default all) */
  only?: readonly string[];
  limitBytes?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface LsqUnitStats {
  unit: string;
  quantizers: number;
  /** the L_2.4 loss on every cached sample with the initial and the learned step sizes */
  lossBefore: number;
  lossAfter: number;
  /** quantizer keys whose learned Δ was not positive and finite: they keep their initial step size */
  rejected: string[];
  seconds: number;
}

export interface LsqResult {
  settings: { iterations: number; batch: number; lr: number; p: number; seed: number; inputs: 'fp' };
  units: LsqUnitStats[];
  seconds: number;
}

const learnable = (t: QuantTarget): t is QuantTarget & { params: UniformParams } =>
  t.role === 'activation' && t.params?.kind === 'uniform' && t.params.axis === null && t.bits < 16;

/** The unit with weights fake-quantized and each learnable activation quantizer's Δ an initializer to differentiate. */
function lsqModel(sub: Model, plan: QuantPlan): { model: Model; deltas: Map<string, string> } {
  const deltas = new Map<string, string>();
  const model = applyFakeQuant(sub, plan, {
    emit: (b: GraphBuilder, _g, t, base) => {
      if (!learnable(t)) return undefined;
      const p = t.params;
      const init = (name: string, v: number) => b.init(b.namer.fresh(names.part(base, name)), Float32Array.of(v), []);
      const delta = init('delta', p.scale[0]!);
      deltas.set(t.key, delta);
      const z = p.zeroPoint[0] === 0 ? null : init('zero_point', p.zeroPoint[0]!);
      return emitUniformOps(
        b,
        t.tensor,
        { scale: delta, zeroPoint: z, qmin: init('qmin', p.qmin), qmax: init('qmax', p.qmax) },
        base,
      );
    },
  });
  return { model, deltas };
}

/** Σ_axis1 |exit − target|^p, as a value to average (the target a new graph input). */
function addLpLoss(model: Model, exit: string, p: number): { value: string; target: string } {
  const b = new GraphBuilder(model.graph);
  const target = b.input(b.namer.fresh(names.target(exit)), 'float32', []);
  const diff = b.op('Abs', [b.op('Sub', [exit, target])]);
  const pow = b.op('Pow', [diff, b.init(b.namer.fresh(names.methodValue('lsq', 'p')), Float32Array.of(p), [])]);
  const value = b.op(
    'ReduceSum',
    [pow, b.init(b.namer.fresh(names.methodValue('lsq', 'axis')), BigInt64Array.of(1n), [1])],
    {
      keepdims: 0,
    },
  );
  return { value, target };
}

/**
 * Learns the step sizes of the activation quantizers of `plan` (calibrated, weights and activations) on `model`
 * (its weights already reconstructed, if they were); updates the params in `plan` in place.
 */
export async function learnActivationSteps(
  model: Model,
  plan: QuantPlan,
  calibFeeds: () => AsyncIterable<Feeds> | Iterable<Feeds>,
  opts: LsqOptions = {},
): Promise<LsqResult> {
  const start = performance.now();
  const o = { ...LSQ_DEFAULTS, ...opts };
  const session: SessionOptions = {};
  if (opts.device !== undefined) session.device = opts.device;
  if (opts.threads !== undefined) session.threads = opts.threads;
  const list = findUnits(model, opts.splits === undefined ? {} : { splits: opts.splits });
  const work = list.units
    .filter((u) => opts.only === undefined || opts.only.includes(u.id))
    .map((unit) => {
      const sub = extractUnit(model, unit);
      return { unit, sub, plan: restrictPlan(plan, sub) };
    })
    .filter((u) => u.plan.targets.some(learnable));
  const capOpts: CaptureOptions = {
    ...session,
    ...(opts.limitBytes === undefined ? {} : { limitBytes: opts.limitBytes }),
  };
  const fp = opts.fp ?? model;
  const byKey = new Map(plan.targets.map((t) => [t.key, t]));
  const stats: LsqUnitStats[] = [];
  let batchUsed = o.batch;
  for (const { unit, sub, plan: p } of work) {
    const t0 = performance.now();
    // FP inputs do not depend on other units; one pass per unit keeps one unit's caches in memory at a time.
    const c = await captureUnit(fp, fp, unit, calibFeeds(), capOpts);
    const target = c.target!;
    const samples = commonSamples([...c.inputs, target]);
    const batch = Math.min(o.batch, samples);
    batchUsed = Math.min(batchUsed, batch);
    const { model: m, deltas } = lsqModel(sub, p);
    const loss = addLpLoss(m, unit.exit, o.p);
    const shapes: Record<string, number[]> = { [loss.target]: batchDims(target, batch) };
    unit.entries.forEach((e, k) => (shapes[e] = batchDims(c.inputs[k]!, batch)));
    const gg = buildGradientGraph(m, { wrt: [...deltas.values()], loss: [{ mean: loss.value }], shapes });
    const runner = await GradientRunner.create(gg, session);
    const params = Object.fromEntries(
      [...deltas.values()].map((d) => [d, (gg.parameters[d]!.data as Float32Array).slice()]),
    );
    const feedsFor = (idx: number[]) => ({
      ...Object.fromEntries(unit.entries.map((e, k) => [e, gather(c.inputs[k]!, idx)])),
      [loss.target]: gather(target, idx),
      ...Object.fromEntries(Object.entries(params).map(([d, v]) => [d, scalarTensor(v[0]!)])),
    });
    const evaluate = () => evaluationMean(samples, batch, async (idx) => (await runner.run(feedsFor(idx))).loss);
    try {
      const lossBefore = await evaluate();
      const adam = new Adam(params, { lr: o.lr });
      const sampler = new BatchSampler(samples, batch, o.seed);
      for (let it = 0; it < o.iterations; it++) {
        adam.lr = (o.lr * (1 + Math.cos((Math.PI * it) / o.iterations))) / 2;
        adam.step((await runner.run(feedsFor(sampler.next()))).grads);
      }
      const lossAfter = await evaluate();
      const rejected: string[] = [];
      for (const [key, d] of deltas) {
        const t = byKey.get(key)!;
        const v = Math.fround(params[d]![0]!);
        if (v > 0 && Number.isFinite(v)) t.params = { ...(t.params as UniformParams), scale: [v] };
        else rejected.push(key);
      }
      stats.push({
        unit: unit.id,
        quantizers: deltas.size,
        lossBefore,
        lossAfter,
        rejected,
        seconds: (performance.now() - t0) / 1000,
      });
    } finally {
      await runner.release();
    }
    opts.onProgress?.(stats.length, work.length);
  }
  return {
    settings: { iterations: o.iterations, batch: batchUsed, lr: o.lr, p: o.p, seed: o.seed, inputs: 'fp' },
    units: stats,
    seconds: (performance.now() - start) / 1000,
  };
}
