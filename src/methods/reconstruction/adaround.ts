// AdaRound on one reconstruction unit (q-diffusion.md §3.2, §3.4): the soft-quantized unit (adaround-graph.ts) is
// differentiated once into a gradient graph with fixed batch shapes, then each iteration feeds α, a seeded random
// minibatch of the cached entries and FP targets, β and λ, and Adam (lr 1e-3) steps α. Loss: (pred − tgt)² summed
// over channels (axis 1) and averaged over the rest, plus λ·Σ(1 − |2h(α) − 1|^β) with β linear from 20 to 2 after a
// 20 % warm-up during which the regulariser is off. The reference runs 20 000 iterations per unit; the default here
// is 1000 because the CPU ORT step of a UNet block takes milliseconds to tens of milliseconds (the hard decisions
// change little after that on the tiny UNet; set `iterations` for the reference). At the end rounding is hard,
// 1[α ≥ 0]. The unit's output error with nearest and with AdaRound rounding is measured on every cached sample
// (the same graph with λ = 0 and α = ±∞). Imports the autodiff runner (runtime), not onnxruntime-node.

import { Adam, GradientRunner, buildGradientGraph, type GradientGraph, type LossTerm } from '../../autodiff/index.js';
import type { Model } from '../../onnx/ir.js';
import type { QuantPlan } from '../../quant/plan.js';
import type { SessionOptions } from '../../runtime/index.js';
import { scalarTensor, type HostTensor } from '../../util/host-tensor.js';
import { dataError, usageError } from '../../errors.js';
import {
  buildAdaRoundGraph,
  hardRounding,
  rectifiedSigmoid,
  roundedWeight,
  type RoundedWeight,
} from './adaround-graph.js';
import type { UnitCapture } from './capture.js';
import { BatchSampler, batchDims, commonSamples, evaluationMean, gather } from './minibatch.js';

export const ADAROUND_DEFAULTS = {
  iterations: 1000,
  batch: 32,
  lr: 1e-3,
  lambda: 0.01,
  warmup: 0.2,
  betaStart: 20,
  betaEnd: 2,
  seed: 0,
  sumAxis: 1,
};

export interface AdaRoundOptions extends SessionOptions {
  /** default 1000 (the reference: 20 000) */
  iterations?: number;
  /** minibatch size (default 32, capped at the cached samples) */
  batch?: number;
  lr?: number;
  lambda?: number;
  /** share of iterations with the regulariser off (default 0.2) */
  warmup?: number;
  betaStart?: number;
  betaEnd?: number;
  seed?: number;
  /** the axis the squared error is summed over (default 1, channels) */
  sumAxis?: number;
  /** weights whose α gets no rounding penalty (q-diffusion.md §3.2 quirk) */
  unregularized?: ReadonlySet<string>;
  onIteration?: (iteration: number, loss: number) => void;
}

export interface AdaRoundStats {
  weights: number;
  parameters: number;
  iterations: number;
  batch: number;
  samples: number;
  /** channel-summed MSE of the unit's output vs FP on every cached sample */
  mseNearest: number;
  mseAdaRound: number;
  /** training loss (reconstruction + regulariser) of the first and last iteration */
  lossFirst: number | null;
  lossLast: number | null;
  /** share of elements whose hard rounding differs from nearest rounding */
  flipped: number;
  /** share of α whose soft rounding h(α) ended strictly between 0 and 1 (not saturated by the regulariser) */
  undecided: number;
  seconds: number;
  secondsPerIteration: number;
}

export interface AdaRoundResult {
  /** weight initializer -> its hard-rounded values on the quantizer's grid */
  rounded: Map<string, { dims: number[]; data: Float32Array }>;
  weights: RoundedWeight[];
  stats: AdaRoundStats;
}

/** β of LinearTempDecay: `start` until the warm-up ends, then linear to `end` at the last iteration. */
export function betaAt(
  iteration: number,
  iterations: number,
  o: { warmup: number; start: number; end: number },
): number {
  const warm = o.warmup * iterations;
  if (iteration < warm) return o.start;
  const rel = (iteration - warm) / (iterations - warm);
  return o.end + (o.start - o.end) * Math.max(0, 1 - rel);
}

/** α that make the rectified sigmoid exactly 0 or 1 (float32 sigmoid saturates). */
const hardAlpha = (up: Uint8Array) => Float32Array.from(up, (u) => (u === 1 ? 1e4 : -1e4));

/**
 * Reconstructs the rounding of `unitModel`'s quantized weights against `capture` (entries from the weight-quantized
 * model, the FP target). `plan` is the plan restricted to the unit (restrictPlan); its weight quantizers have params.
 */
export async function adaroundUnit(
  unitModel: Model,
  plan: QuantPlan,
  capture: UnitCapture,
  opts: AdaRoundOptions = {},
): Promise<AdaRoundResult> {
  const start = performance.now();
  const o = { ...ADAROUND_DEFAULTS, ...opts };
  if (capture.target === undefined) throw usageError('AdaRound needs the unit target (capture with targets: true)');
  const target = capture.target;
  const samples = commonSamples([...capture.inputs, target]);
  const batch = Math.min(o.batch, samples);
  const built = buildAdaRoundGraph(unitModel, plan, o.unregularized);
  const entries = unitModel.graph.inputs.map((i) => i.name);
  const loss: LossTerm[] = [{ mse: target.name, sumAxis: o.sumAxis }, ...built.regularizers.map((r) => ({ sum: r }))];
  const shapes = Object.fromEntries(capture.inputs.map((c, i) => [entries[i]!, batchDims(c, batch)]));
  const gg: GradientGraph = buildGradientGraph(built.model, {
    wrt: built.weights.map((w) => w.alphaName),
    loss,
    shapes,
  });
  const targetInput = gg.targets[target.name]!;
  const session: SessionOptions = {};
  if (opts.device !== undefined) session.device = opts.device;
  if (opts.threads !== undefined) session.threads = opts.threads;
  const runner = await GradientRunner.create(gg, session);
  // β and λ are inputs only while some weight is regularised (dead inputs are removed from the gradient graph).
  const schedule = (beta: number, lambda: number): Record<string, HostTensor> =>
    gg.inputs.includes(built.beta) ? { [built.beta]: scalarTensor(beta), [built.lambda]: scalarTensor(lambda) } : {};
  const alphaFeeds = (alphas: Float32Array[]) =>
    Object.fromEntries(
      built.weights.map((w, i): [string, HostTensor] => [
        w.alphaName,
        { dtype: 'float32', dims: w.dims, data: alphas[i]! },
      ]),
    );
  const feedsFor = (indices: number[]) => ({
    ...Object.fromEntries(capture.inputs.map((c, i) => [entries[i]!, gather(c, indices)])),
    [targetInput]: gather(target, indices),
  });
  const evaluate = (alphas: Float32Array[]) =>
    evaluationMean(
      samples,
      batch,
      async (idx) => (await runner.run({ ...alphaFeeds(alphas), ...feedsFor(idx), ...schedule(2, 0) })).loss,
    );
  let lossFirst: number | null = null;
  let lossLast: number | null = null;
  try {
    const mseNearest = await evaluate(built.weights.map((w) => hardAlpha(w.nearestUp)));
    const params = Object.fromEntries(built.weights.map((w) => [w.alphaName, w.alpha]));
    const adam = new Adam(params, { lr: o.lr });
    const sampler = new BatchSampler(samples, batch, o.seed);
    const betas = { warmup: o.warmup, start: o.betaStart, end: o.betaEnd };
    const trainStart = performance.now();
    for (let it = 0; it < o.iterations; it++) {
      const warm = it < o.warmup * o.iterations;
      const step = await runner.run({
        ...alphaFeeds(built.weights.map((w) => w.alpha)),
        ...feedsFor(sampler.next()),
        ...schedule(betaAt(it, o.iterations, betas), warm ? 0 : o.lambda),
      });
      // A NaN/Inf loss (e.g. from non-finite calibration data) would turn α into NaN and every hard rounding into
      // "down" without a word; stop instead.
      if (!Number.isFinite(step.loss))
        throw dataError(
          `AdaRound on ${unitModel.graph.name}: the loss is ${step.loss} at iteration ${it}`,
          'check the calibration data for NaN/Inf',
        );
      adam.step(step.grads);
      lossFirst ??= step.loss;
      lossLast = step.loss;
      o.onIteration?.(it, step.loss);
    }
    const trainSeconds = (performance.now() - trainStart) / 1000;
    const hard = built.weights.map(hardRounding);
    const mseAdaRound = await evaluate(hard.map(hardAlpha));
    const rounded = new Map(
      built.weights.map((w, i) => [w.tensor, { dims: w.dims, data: roundedWeight(w, hard[i]!) }]),
    );
    let flips = 0;
    let undecided = 0;
    let total = 0;
    built.weights.forEach((w, i) => {
      for (let k = 0; k < w.alpha.length; k++) {
        if (hard[i]![k] !== w.nearestUp[k]) flips++;
        const h = rectifiedSigmoid(w.alpha[k]!);
        if (h > 0 && h < 1) undecided++;
      }
      total += w.alpha.length;
    });
    const seconds = (performance.now() - start) / 1000;
    return {
      rounded,
      weights: built.weights,
      stats: {
        weights: built.weights.length,
        parameters: total,
        iterations: o.iterations,
        batch,
        samples,
        mseNearest,
        mseAdaRound,
        lossFirst,
        lossLast,
        flipped: total === 0 ? 0 : flips / total,
        undecided: total === 0 ? 0 : undecided / total,
        seconds,
        secondsPerIteration: o.iterations === 0 ? 0 : trainSeconds / o.iterations,
      },
    };
  } finally {
    await runner.release();
  }
}
