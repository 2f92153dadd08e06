// The RepQ-ViT pipeline (repq-vit.md §5): find the post-LayerNorm pairs, plan, calibrate weights, one sequential
// pass over the calibration images (post-LN quantizers per channel), reparameterize, re-fit the re-scaled weights
// (pass 2 needs no forward pass: only weight quantizers re-initialise, and they look at the weights alone), then
// the simulated model and the deployable export. The ablation switches choose the post-LN and post-Softmax
// variants. Imports the method's parts, the quantization passes and the runtime types.

import type { Model } from '../../onnx/ir.js';
import { cloneModel } from '../../onnx/clone.js';
import { dataError } from '../../errors.js';
import { applyFakeQuant, type FakeQuantOptions } from '../../quant/fake-quant.js';
import type { QdqReport } from '../../quant/qdq-export.js';
import type { QuantPlan } from '../../quant/plan.js';
import type { Recipe } from '../../quant/recipe.js';
import type { Feeds, SessionOptions } from '../../runtime/index.js';
import { calibrateWeights } from '../calibrate.js';
import { exportDeployable } from '../ptq.js';
import { shiftFormEmitter, shiftFormRecord } from './log-softmax.js';
import { findPostLnPairs, type PostLnPair, type SkippedNorm } from './post-ln-pairs.js';
import { reparameterize, type ReparamRecord } from './reparam.js';
import { calibrateSequential, joinBatches } from './sequential.js';
import { planRepq, type RepqSettings } from './targets.js';

export interface RepqCalibration {
  images: number;
  /** activation quantizers calibrated in the sequential pass */
  quantizers: number;
  /** ORT session creations and runs of the whole calibration (both passes) */
  sessions: number;
  runs: number;
  seconds: { weights: number; pass1: number; reparam: number; pass2: number; total: number };
}

export interface RepqResult {
  plan: QuantPlan;
  /** the float model after reparameterization (the input model itself is not modified) */
  reparameterized: Model;
  simulated: Model;
  qdq: Model;
  qdqReport: QdqReport;
  pairs: PostLnPair[];
  skippedNorms: SkippedNorm[];
  records: ReparamRecord[];
  calibration: RepqCalibration;
  /** for the sidecar's `extra` */
  extra: Record<string, unknown>;
}

export interface RepqOptions extends SessionOptions {
  onProgress?: (done: number, total: number) => void;
  /** build the QDQ export too (default true) */
  exportQdq?: boolean;
  /** applied on top of RepQ-ViT's recipe (e.g. a recipe file's overrides) */
  adjustRecipe?: (r: Recipe) => Recipe;
}

/** Calibrates and reparameterizes a copy of `model`; `calibFeeds` yields the calibration set (joined into one batch). */
export async function runRepqVit(
  model: Model,
  settings: RepqSettings,
  calibFeeds: () => AsyncIterable<Feeds>,
  opts: RepqOptions = {},
): Promise<RepqResult> {
  const work = cloneModel(model);
  work.graph.topoSort();
  const { pairs, skipped } = findPostLnPairs(work.graph);
  const plan = planRepq(work, settings, pairs, opts.adjustRecipe);
  const batch = await joinBatches(calibFeeds());
  const images = Object.values(batch)[0]?.dims[0] ?? 0;
  if (images === 0) throw dataError('calibration data is empty');
  const fq: FakeQuantOptions = settings.postSoftmax === 'reparam' ? { emit: shiftFormEmitter } : {};
  const session: SessionOptions = {};
  if (opts.device !== undefined) session.device = opts.device;
  if (opts.threads !== undefined) session.threads = opts.threads;

  const t0 = performance.now();
  calibrateWeights(work, plan);
  const t1 = performance.now();
  const pass1 = await calibrateSequential(work, plan, batch, {
    ...session,
    ...fq,
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
  });
  const t2 = performance.now();
  let records: ReparamRecord[] = [];
  let t3 = t2;
  if (settings.postLn === 'reparam') {
    const r = reparameterize(work.graph, plan, pairs, settings.roundZeroPoint);
    records = r.records;
    t3 = performance.now();
    calibrateWeights(work, { recipe: plan.recipe, targets: r.refit });
  }
  const t4 = performance.now();
  const sec = (a: number, b: number) => (b - a) / 1000;
  const calibration: RepqCalibration = {
    images,
    quantizers: pass1.calibrated,
    sessions: pass1.sessions,
    runs: pass1.levels,
    seconds: { weights: sec(t0, t1), pass1: sec(t1, t2), reparam: sec(t2, t3), pass2: sec(t3, t4), total: sec(t0, t4) },
  };

  const simulated = applyFakeQuant(work, plan, fq);
  let qdq = simulated;
  let qdqReport: QdqReport = { qdq: 0, emulated: [] };
  if (opts.exportQdq !== false) {
    const d = await exportDeployable(work, plan, calibFeeds, { ...session, ...fq });
    qdq = d.model;
    qdqReport = d.report;
    if (d.opsetNote !== undefined) qdqReport.opsetNote = d.opsetNote;
  }
  const shift = plan.targets.map(shiftFormRecord).filter((r) => r !== undefined);
  const extra = {
    repqVit: {
      postLn: settings.postLn,
      postSoftmax: settings.postSoftmax,
      roundZeroPoint: settings.roundZeroPoint,
      postLnPairs: pairs.map((p) => ({ norm: p.name, tensor: p.tensor, consumers: p.consumers.map((c) => c.node) })),
      skippedNorms: skipped,
      reparameterization: records,
      ...(settings.postSoftmax === 'reparam' ? { postSoftmaxShiftForm: shift } : {}),
      // No seconds here: the sidecar is byte-for-byte reproducible.
      calibration: { images, sessions: pass1.sessions, runs: pass1.levels, quantizers: pass1.calibrated },
    },
  };
  return {
    plan,
    reparameterized: work,
    simulated,
    qdq,
    qdqReport,
    pairs,
    skippedNorms: skipped,
    records,
    calibration,
    extra,
  };
}
