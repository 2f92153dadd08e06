// BRECQ weight reconstruction (q-diffusion.md §3.3, §3.4): AdaRound over every reconstruction unit in the
// reference walk order. Inputs are "asym": captured on the weight-quantized model in which finished units carry
// their hard AdaRound weights and the others nearest rounding, recaptured before each run of units that no finished
// unit of the run feeds (captureGroups), so each unit sees exactly what the reference's per-unit recapture gives;
// the FP targets come from a copy of the model taken before any weight is replaced, in the same pass. After
// each unit its weight initializers in `model` are replaced by the hard-rounded values on the quantizer grid, so the
// fake-quant pass and the QDQ export reproduce the codes. Units without a quantized weight are skipped (§9.5).
// Works for any model findUnits handles (UNets, ViTs). Imports the runtime through capture/adaround.

import { cloneModel } from '../../onnx/clone.js';
import type { Model } from '../../onnx/ir.js';
import { makeTensor } from '../../onnx/tensor.js';
import { applyFakeQuant } from '../../quant/fake-quant.js';
import type { QuantPlan } from '../../quant/plan.js';
import type { Feeds, SessionOptions } from '../../runtime/index.js';
import { adaroundUnit, ADAROUND_DEFAULTS, type AdaRoundOptions, type AdaRoundStats } from './adaround.js';
import { captureUnits, type CaptureOptions } from './capture.js';
import { extractUnit, restrictPlan } from './extract.js';
import type { SplitJoin } from './graph-facts.js';
import { captureGroups } from './schedule.js';
import { findUnits, type ReconstructionUnit } from './units.js';

export interface BrecqOptions extends Omit<AdaRoundOptions, 'unregularized' | 'onIteration'> {
  /** shortcut splits of the model (q-diffusion), for finding units and for §3.2's regulariser quirk */
  splits?: readonly SplitJoin[];
  /** the model with its FP weights (default: a copy of `model` taken before any weight is replaced) */
  fp?: Model;
  /** only these unit ids (default all, in walk order) */
  only?: readonly string[];
  /** byte limit of the capture caches */
  limitBytes?: number;
  onProgress?: (done: number, total: number) => void;
  onUnit?: (unit: ReconstructionUnit, stats: AdaRoundStats) => void;
}

export interface UnitStats extends AdaRoundStats {
  unit: string;
  kind: 'block' | 'layer';
  layers: number;
}

export interface BrecqResult {
  settings: {
    iterations: number;
    batch: number;
    lr: number;
    lambda: number;
    warmup: number;
    beta: [number, number];
    seed: number;
    inputs: 'weight-quantized (finished units hard-rounded, the rest nearest)';
    targets: 'fp';
    loss: 'channel-summed squared error, averaged over the rest, plus the rounding regulariser';
  };
  units: UnitStats[];
  skipped: { unit: string; reason: string }[];
  captures: number;
  captureSeconds: number;
  seconds: number;
}

type FeedSource = () => AsyncIterable<Feeds> | Iterable<Feeds>;

/**
 * Reconstructs the rounding of every quantized weight of `model` (the float model `plan` was made on, weights
 * calibrated); replaces the weight initializers of `model` in place.
 */
export async function reconstructWeights(
  model: Model,
  plan: QuantPlan,
  calibFeeds: FeedSource,
  opts: BrecqOptions = {},
): Promise<BrecqResult> {
  const start = performance.now();
  const { splits, only, limitBytes, onProgress, onUnit, fp: _fp, ...ada } = opts;
  const session: SessionOptions = {};
  if (opts.device !== undefined) session.device = opts.device;
  if (opts.threads !== undefined) session.threads = opts.threads;
  const capOpts: CaptureOptions = { ...session, ...(limitBytes === undefined ? {} : { limitBytes }) };
  const list = findUnits(model, splits === undefined ? {} : { splits });
  const weightPlan: QuantPlan = { ...plan, targets: plan.targets.filter((t) => t.role === 'weight') };
  const skipped: BrecqResult['skipped'] = [];
  const units: { unit: ReconstructionUnit; sub: Model; plan: QuantPlan }[] = [];
  for (const unit of list.units) {
    if (only !== undefined && !only.includes(unit.id)) continue;
    const sub = extractUnit(model, unit);
    const p = restrictPlan(weightPlan, sub);
    if (p.targets.length === 0) skipped.push({ unit: unit.id, reason: 'no quantized weight' });
    else units.push({ unit, sub, plan: p });
  }
  // §3.2 quirk: a split layer reconstructed on its own regularises only its first half's α.
  const secondHalves = new Set<string>();
  for (const s of splits ?? []) for (const part of s.parts.slice(1)) secondHalves.add(part.conv);
  const weightOf = (conv: string) =>
    weightPlan.targets.find((t) => t.uses.some((u) => u.node === conv && u.input === 1))?.tensor;

  // One pass per capture group gives its units' inputs (weight-quantized model) and FP targets (the FP copy), so
  // the caches hold one group at a time.
  const fp = opts.fp ?? cloneModel(model);
  let captureSeconds = 0;
  let captures = 0;
  const stats: UnitStats[] = [];
  const byId = new Map(units.map((u) => [u.unit.id, u]));
  for (const group of captureGroups(
    model,
    units.map((u) => u.unit),
  )) {
    const wq = applyFakeQuant(model, weightPlan);
    const cap = await captureUnits(wq, fp, group, calibFeeds(), capOpts);
    captures++;
    captureSeconds += cap.seconds;
    for (const c of cap.units) {
      const { unit, sub, plan: p } = byId.get(c.unit)!;
      // The reference's rounding regulariser only sums each module's first weight quantizer, so the second half of
      // a split layer is optimised without the penalty, inside blocks as in layer units (spec §9.2).
      const unregularized = new Set<string>();
      for (const l of unit.layers) if (secondHalves.has(l)) unregularized.add(weightOf(l) ?? '');
      const r = await adaroundUnit(sub, p, c, { ...ada, unregularized });
      for (const [name, w] of r.rounded) model.graph.initializers.set(name, makeTensor(name, w.data, w.dims));
      const s: UnitStats = { unit: unit.id, kind: unit.kind, layers: unit.layers.length, ...r.stats };
      stats.push(s);
      onUnit?.(unit, r.stats);
      onProgress?.(stats.length, units.length);
    }
  }
  const o = { ...ADAROUND_DEFAULTS, ...ada };
  return {
    settings: {
      iterations: o.iterations,
      // the batch actually used: capped at the cached samples
      batch: Math.min(o.batch, ...stats.map((u) => u.batch)),
      lr: o.lr,
      lambda: o.lambda,
      warmup: o.warmup,
      beta: [o.betaStart, o.betaEnd],
      seed: o.seed,
      inputs: 'weight-quantized (finished units hard-rounded, the rest nearest)',
      targets: 'fp',
      loss: 'channel-summed squared error, averaged over the rest, plus the rounding regulariser',
    },
    units: stats,
    skipped,
    captures,
    captureSeconds,
    seconds: (performance.now() - start) / 1000,
  };
}
