// The calibration-only PTQ methods (the papers' "Linear Quant" baseline and its observer variants): mark with a
// recipe, calibrate weights and activations, then produce the simulated model and the QDQ export.

import { defaultOpset, type Model } from '../onnx/ir.js';
import { cloneModel } from '../onnx/clone.js';
import { raiseDefaultOpset } from '../onnx/rewrite/opset.js';
import { Session, type Feeds, type SessionOptions } from '../runtime/index.js';
import { describeError, usageError } from '../errors.js';
import { applyFakeQuant, type FakeQuantOptions } from '../quant/fake-quant.js';
import { exportQdq, type QdqReport } from '../quant/qdq-export.js';
import { planQuantization, type QuantPlan } from '../quant/plan.js';
import { defaultRecipe, type ObserverName, type Recipe } from '../quant/recipe.js';
import { calibrateActivations, calibrateWeights } from './calibrate.js';

export const LINEAR_METHODS = ['minmax', 'percentile', 'mse-quantile', 'mse-range'] as const;
export type LinearMethod = (typeof LINEAR_METHODS)[number];

/** Observers per tensor class for each method: percentile clips activations only; weights stay min-max. */
export function methodObservers(method: LinearMethod): { weights: ObserverName; activations: ObserverName } {
  switch (method) {
    case 'minmax':
      return { weights: 'minmax', activations: 'minmax' };
    case 'percentile':
      return { weights: 'minmax', activations: 'percentile' };
    case 'mse-quantile':
      return { weights: 'mse-quantile', activations: 'mse-quantile' };
    case 'mse-range':
      return { weights: 'mse-range', activations: 'mse-range' };
  }
}

export function recipeFor(method: LinearMethod, wBits: number, aBits: number): Recipe {
  if (!(LINEAR_METHODS as readonly string[]).includes(method))
    throw usageError(`unknown method ${method}`, `methods: ${LINEAR_METHODS.join(', ')}`);
  const r = defaultRecipe(wBits, aBits);
  const o = methodObservers(method);
  r.weights.observer = o.weights;
  r.activations.observer = o.activations;
  return r;
}

export interface PtqResult {
  plan: QuantPlan;
  simulated: Model;
  qdq: Model;
  qdqReport: QdqReport;
  calibBatches: number;
  calibSeconds: number;
}

export async function runPtq(
  model: Model,
  recipe: Recipe,
  calibFeeds: () => AsyncIterable<Feeds>,
  opts: SessionOptions & { onProgress?: (done: number, total: number) => void; totalBatches?: number } = {},
): Promise<PtqResult> {
  const plan = planQuantization(model, recipe);
  const start = performance.now();
  calibrateWeights(model, plan);
  const calibBatches = await calibrateActivations(model, plan, calibFeeds(), opts);
  const calibSeconds = (performance.now() - start) / 1000;
  const simulated = applyFakeQuant(model, plan);
  const { model: qdq, report, opsetNote } = await exportDeployable(model, plan, calibFeeds, opts);
  if (opsetNote !== undefined) report.opsetNote = opsetNote;
  return { plan, simulated, qdq, qdqReport: report, calibBatches, calibSeconds };
}

function needsOpset21(plan: QuantPlan): boolean {
  return plan.targets.some((t) => t.params?.kind === 'uniform' && (t.params.bits === 4 || t.params.bits === 16));
}

/** Largest |a − b| over the outputs two models give for the same feeds. */
async function outputGap(a: Model, b: Model, feeds: Feeds, opts: SessionOptions): Promise<number> {
  const [sa, sb] = await Promise.all([Session.create(a, opts), Session.create(b, opts)]);
  try {
    const [oa, ob] = [await sa.run(feeds), await sb.run(feeds)];
    let gap = 0;
    for (const [k, v] of Object.entries(oa)) {
      const w = ob[k]!.data as Float32Array;
      const x = v.data as Float32Array;
      for (let i = 0; i < x.length; i++) gap = Math.max(gap, Math.abs(x[i]! - w[i]!));
    }
    return gap;
  } finally {
    await Promise.all([sa.release(), sb.release()]);
  }
}

/**
 * The QDQ export. 4-bit (and 16-bit) QuantizeLinear need opset 21: the FP model is raised to 21 when that keeps
 * its outputs (checked on a calibration batch); otherwise those quantizers are emulated and the note says why.
 * `opts.emit` chooses the op chain of emulated activation quantizers (see applyFakeQuant).
 */
export async function exportDeployable(
  model: Model,
  plan: QuantPlan,
  calibFeeds: () => AsyncIterable<Feeds>,
  opts: SessionOptions & FakeQuantOptions,
): Promise<{ model: Model; report: QdqReport; opsetNote?: string }> {
  const q: FakeQuantOptions = opts.emit === undefined ? {} : { emit: opts.emit };
  if (!needsOpset21(plan) || defaultOpset(model) >= 21) return exportQdq(model, plan, q);
  const raised = cloneModel(model);
  try {
    raiseDefaultOpset(raised, 21);
  } catch (e) {
    return { ...exportQdq(model, plan, q), opsetNote: `kept opset ${defaultOpset(model)}: ${describeError(e)}` };
  }
  let sample: Feeds | undefined;
  for await (const f of calibFeeds()) {
    sample = f;
    break;
  }
  const gap = sample === undefined ? Infinity : await outputGap(model, raised, sample, opts);
  if (!(gap <= 1e-5))
    return {
      ...exportQdq(model, plan, q),
      opsetNote: `kept opset ${defaultOpset(model)}: opset 21 changed outputs by ${gap}`,
    };
  return {
    ...exportQdq(raised, plan, q),
    opsetNote: `raised opset ${defaultOpset(model)} -> 21 for 4-bit QuantizeLinear (outputs unchanged, max gap ${gap})`,
  };
}
