// The Q-Diffusion pipeline (q-diffusion.md §0; without reconstruction §12 option c): shortcut splitting, then the
// spec's linear quantizers (weights per output channel, asymmetric, MSE-searched or min-max; activations per
// tensor, symmetric min-max as in the DDIM CIFAR-10 configuration), calibrated on the feeds the caller gives (for a
// UNet the CLI builds a time step-aware set). Every Conv/Gemm/MatMul is quantized, first and last layers included
// (§3.1), biases stay float. Activation ranges are observed with the weights already fake-quantized, as the
// reference initialises its activation quantizers after weight calibration with weight quantization on.
//
// Block reconstruction (BRECQ + AdaRound, §3.2-3.4: ../reconstruction/brecq.ts) and activation step-size learning
// (§4.3: ../reconstruction/lsq.ts) plug in through `opts.reconstruction` (reconstruction.ts builds it); without one
// the weights keep nearest rounding and the result says that no reconstruction was applied.

import type { Model } from '../../onnx/ir.js';
import { cloneModel } from '../../onnx/clone.js';
import { applyFakeQuant } from '../../quant/fake-quant.js';
import type { QdqReport } from '../../quant/qdq-export.js';
import { planQuantization, type QuantPlan, type QuantTarget } from '../../quant/plan.js';
import { defaultRecipe, type Recipe } from '../../quant/recipe.js';
import { Prober, type Feeds, type SessionOptions } from '../../runtime/index.js';
import { calibrateActivations, calibrateWeights } from '../calibrate.js';
import { exportDeployable } from '../ptq.js';
import { splitShortcuts, unknownPartChannels, type ShortcutSplit, type SkippedSplit } from './shortcut-split.js';

export const TAG_SHORTCUT_SPLIT = 'shortcut-split';

export interface QDiffusionSettings {
  wBits: number;
  aBits: number;
  /** shortcut splitting (off: the paper's ablation) */
  split: boolean;
  /** weight scales per output channel: 'mse' (the 80-candidate L2.4 range search) or 'max' (min-max) */
  weightInit: 'mse' | 'max';
  /** activation scales per tensor: 'max' (min-max over every calibration batch) or 'mse' (search on the first) */
  actInit: 'max' | 'mse';
  /** signed activation grid with zero-point 0 (the reference's --a_sym, used for DDIM CIFAR-10) */
  actSymmetric: boolean;
}

export const QDIFF_DEFAULTS: Omit<QDiffusionSettings, 'wBits' | 'aBits'> = {
  split: true,
  // The DDIM config initialises weights with min-max and then runs AdaRound; without AdaRound the spec's gradient-free
  // fallback (§12 c) searches the weight ranges, as the LDM/SD configs initialise them.
  weightInit: 'mse',
  actInit: 'max',
  actSymmetric: true,
};

export function qdiffusionRecipe(s: QDiffusionSettings): Recipe {
  const r = defaultRecipe(s.wBits, s.aBits);
  r.weights.observer = s.weightInit === 'mse' ? 'mse-range' : 'minmax';
  r.activations.observer = s.actInit === 'mse' ? 'mse-range' : 'minmax';
  r.activations.symmetric = s.actSymmetric;
  return r;
}

export interface ReconstructionContext {
  /** the working float model (shortcuts split); a weight reconstruction may replace its weight initializers */
  model: Model;
  /** the split model with its FP weights, as before any reconstruction (inputs and targets of step-size learning) */
  fp: Model;
  /** weight (and, for `activations`, activation) quantizers already initialised */
  plan: QuantPlan;
  calibFeeds: () => AsyncIterable<Feeds>;
  splits: readonly ShortcutSplit[];
  session: SessionOptions;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Where BRECQ/AdaRound and step-size learning plug in. `weights` runs after weight initialisation; AdaRound's hard
 * rounding decisions can be kept by replacing each weight initializer with floor(W/Δ)·Δ + 1[α ≥ 0]·Δ (on the
 * quantizer's grid, so the fake-quant pass and the QDQ export reproduce those codes exactly). `activations` runs
 * after activation initialisation and may update the activation targets' params (the zero-points stay).
 * Each returns what the sidecar should record.
 */
export interface Reconstruction {
  name: string;
  weights?: (ctx: ReconstructionContext) => Promise<Record<string, unknown>>;
  activations?: (ctx: ReconstructionContext) => Promise<Record<string, unknown>>;
}

export const NO_RECONSTRUCTION_NOTE =
  'not applied (opt-in: --recon, or the q-diffusion option recon=on): weights use nearest rounding and activation ' +
  'step sizes are their initial values';

export interface QDiffusionOptions extends SessionOptions {
  onProgress?: (done: number, total: number) => void;
  totalBatches?: number;
  adjustRecipe?: (r: Recipe) => Recipe;
  reconstruction?: Reconstruction;
}

export interface QDiffusionResult {
  plan: QuantPlan;
  /** the float model with the shortcuts split (the input model itself is not modified) */
  split: Model;
  simulated: Model;
  qdq: Model;
  qdqReport: QdqReport;
  splits: ShortcutSplit[];
  skipped: SkippedSplit[];
  calibBatches: number;
  calibSeconds: number;
  extra: Record<string, unknown>;
}

/** Channel counts of Concat inputs that the graph does not tell, from one calibration batch. */
async function probeChannels(
  model: Model,
  calibFeeds: () => AsyncIterable<Feeds>,
  session: SessionOptions,
): Promise<Map<string, number>> {
  const unknown = unknownPartChannels(model.graph);
  const out = new Map<string, number>();
  if (unknown.length === 0) return out;
  const prober = await Prober.create(model, unknown, session);
  try {
    for await (const f of calibFeeds()) {
      for (const [name, t] of await prober.run(f)) if (t.dims.length >= 2) out.set(name, t.dims[1]!);
      break;
    }
  } finally {
    await prober.release();
  }
  return out;
}

/**
 * Gives each split Conv's activation input a quantizer of its own (the plan keys quantizers by tensor, and a
 * Concat input may also feed another Conv, e.g. a down-path nin_shortcut), and tags both quantizers of each part.
 */
function tagSplitTargets(plan: QuantPlan, splits: readonly ShortcutSplit[]): Map<string, { a?: string; w?: string }> {
  const keys = new Map<string, { a?: string; w?: string }>();
  const added: QuantTarget[] = [];
  for (const s of splits)
    for (const part of s.parts) {
      const k: { a?: string; w?: string } = {};
      for (const t of plan.targets) {
        const i = t.uses.findIndex((u) => u.node === part.conv);
        if (i < 0) continue;
        if (t.role === 'weight') {
          t.tags = [...t.tags, TAG_SHORTCUT_SPLIT];
          k.w = t.key;
          continue;
        }
        const use = t.uses[i]!;
        t.uses = t.uses.filter((_, j) => j !== i);
        const own: QuantTarget = { ...t, key: `${t.tensor}@${part.conv}`, uses: [use], tags: [TAG_SHORTCUT_SPLIT] };
        added.push(own);
        k.a = own.key;
      }
      keys.set(part.conv, k);
    }
  plan.targets = [...plan.targets.filter((t) => t.uses.length > 0), ...added];
  return keys;
}

export async function runQDiffusion(
  model: Model,
  settings: QDiffusionSettings,
  calibFeeds: () => AsyncIterable<Feeds>,
  opts: QDiffusionOptions = {},
): Promise<QDiffusionResult> {
  const session: SessionOptions = {};
  if (opts.device !== undefined) session.device = opts.device;
  if (opts.threads !== undefined) session.threads = opts.threads;
  const start = performance.now();
  const work = cloneModel(model);
  let splits: ShortcutSplit[] = [];
  let skipped: SkippedSplit[] = [];
  if (settings.split) {
    const channels = await probeChannels(work, calibFeeds, session);
    ({ splits, skipped } = splitShortcuts(work.graph, { channels }));
  }
  const base = qdiffusionRecipe(settings);
  const plan = planQuantization(work, opts.adjustRecipe?.(base) ?? base);
  const keys = tagSplitTargets(plan, splits);
  const progress = opts.onProgress === undefined ? {} : { onProgress: opts.onProgress };
  const fp = opts.reconstruction?.weights !== undefined ? cloneModel(work) : work;
  const ctx: ReconstructionContext = { model: work, fp, plan, calibFeeds, splits, session, ...progress };

  calibrateWeights(work, plan);
  const rec: Record<string, unknown> = {};
  if (opts.reconstruction?.weights !== undefined) rec.weights = await opts.reconstruction.weights(ctx);
  const weightTargets = plan.targets.filter((t) => t.role === 'weight');
  const weightQuantized = weightTargets.length > 0 ? applyFakeQuant(work, { ...plan, targets: weightTargets }) : work;
  const calibBatches = await calibrateActivations(weightQuantized, plan, calibFeeds(), {
    ...session,
    ...progress,
    ...(opts.totalBatches === undefined ? {} : { totalBatches: opts.totalBatches }),
  });
  if (opts.reconstruction?.activations !== undefined) {
    rec.activations =
      settings.aBits < 32
        ? await opts.reconstruction.activations(ctx)
        : { skipped: true, reason: 'activations are not quantized (--a-bits 32): no step sizes to learn' };
  }
  const calibSeconds = (performance.now() - start) / 1000;

  const simulated = applyFakeQuant(work, plan);
  const d = await exportDeployable(work, plan, calibFeeds, session);
  const qdqReport = d.report;
  if (d.opsetNote !== undefined) qdqReport.opsetNote = d.opsetNote;
  const extra = {
    qDiffusion: {
      settings: { ...settings },
      activationRanges: settings.aBits >= 32 ? null : 'observed on the weight-quantized model',
      reconstruction:
        opts.reconstruction === undefined
          ? { applied: false, note: NO_RECONSTRUCTION_NOTE }
          : { applied: true, name: opts.reconstruction.name, ...rec },
      shortcutSplit: {
        enabled: settings.split,
        splits: splits.map((s) => ({
          conv: s.conv,
          concat: s.concat,
          weight: s.weight,
          parts: s.parts.map((p) => ({
            tensor: p.tensor,
            channels: p.channels,
            conv: p.conv,
            weightQuantizer: keys.get(p.conv)?.w ?? null,
            activationQuantizer: keys.get(p.conv)?.a ?? null,
          })),
        })),
        skipped,
      },
    },
  };
  return {
    plan,
    split: work,
    simulated,
    qdq: d.model,
    qdqReport,
    splits,
    skipped,
    calibBatches,
    calibSeconds,
    extra,
  };
}
