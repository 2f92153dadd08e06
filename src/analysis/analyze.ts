// The analysis of one model on calibration data, as plain data (types.ts). One streaming pass probes every tensor
// of interest batch by batch and feeds all accumulators at once (statistics, LayerNorm channel ranges, Softmax,
// shortcut halves, per-step ranges, and the quantizers' observers), so nothing keeps whole activations; the
// sensitivity pass then reuses the calibrated plan. Imports analysis/*, the runtime and the quantization core.

import type { Model } from '../onnx/ir.js';
import { summarizeModel } from '../onnx/summary.js';
import { toFloat32 } from '../onnx/tensor.js';
import { Prober, modelInputs, onnxruntimeVersion, type Feeds, type SessionOptions } from '../runtime/index.js';
import { checkFinite } from '../data/finite.js';
import { dataError, describeError, isQuantlensError, modelError } from '../errors.js';
import { logitsOutput } from '../eval/classification.js';
import { calibrateWeights, observerFor } from '../methods/calibrate.js';
import { recipeFor, type LinearMethod } from '../methods/ptq.js';
import { planQuantization, type QuantPlan } from '../quant/plan.js';
import type { Observer } from '../quant/observers/types.js';
import { quantlensVersion } from '../version.js';
import { ChannelRangeAccumulator } from './channel-ranges.js';
import { runSensitivity, type LabelledBatch } from './sensitivity.js';
import { analyzeShortcut, type PartRange } from './shortcuts.js';
import { layerNormSites, quantizableTensors, shortcutSites, softmaxSites } from './sites.js';
import { SoftmaxAccumulator } from './softmax.js';
import { DEFAULT_STATS, TensorStatsAccumulator, type StatsConfig } from './tensor-stats.js';
import { minMax, TimestepAccumulator } from './timesteps.js';
import { ANALYSIS_SCHEMA_VERSION, type Analysis, type ErrorAccumulation, type TensorStats } from './types.js';
import { measureErrorAccumulation } from './error-accumulation.js';
import { applyFakeQuant } from '../quant/fake-quant.js';
import type { SamplerConfig } from '../diffusion/index.js';

export interface CalibBatch {
  feeds: Feeds;
  /** sampler step of every item of this batch (time step-aware calibration sets: one step per batch) */
  step?: number;
  t?: number | null;
}

export interface AnalyzeOptions extends SessionOptions {
  model: { name: string; path: string; sha256: string | null };
  data: string;
  seed: number;
  wBits: number;
  aBits: number;
  method: LinearMethod;
  calib: () => AsyncIterable<CalibBatch>;
  totalBatches?: number;
  /** labelled items for top-1 (the --limit subset); none: SQNR only */
  evalBatches?: () => AsyncIterable<LabelledBatch>;
  limit: number;
  sensitivity?: boolean;
  stats?: StatsConfig;
  /** diffusion models: measure FP vs quantized x_t along this sampler (samples 0 or absent: skipped) */
  sampler?: { config: SamplerConfig; samples: number; batch: number; seed: number };
  onProgress?: (phase: 'statistics' | 'sensitivity' | 'sampling', done: number, total: number) => void;
}

function floatData(name: string, t: { dtype: string; data: unknown; dims: number[] } | undefined): Float32Array {
  if (t === undefined) throw modelError(`probe returned nothing for ${name}`);
  if (t.dtype !== 'float32') throw modelError(`tensor ${name} is ${t.dtype}, not float32`);
  return t.data as Float32Array;
}

function tryPlan(model: Model, opts: AnalyzeOptions, notes: string[]): QuantPlan | null {
  try {
    const plan = planQuantization(model, recipeFor(opts.method, opts.wBits, opts.aBits));
    calibrateWeights(model, plan);
    return plan;
  } catch (e) {
    if (!isQuantlensError(e)) throw e;
    notes.push(`no quantization plan, so no sensitivity or error accumulation: ${describeError(e)}`);
    return null;
  }
}

export async function analyzeModel(model: Model, opts: AnalyzeOptions): Promise<Analysis> {
  const started = performance.now();
  const g = model.graph;
  g.topoSort();
  const notes: string[] = [];
  const cfg = opts.stats ?? DEFAULT_STATS;
  const quantizable = quantizableTensors(g);
  const acts = quantizable.filter((q) => q.role === 'activation');
  const lns = layerNormSites(g);
  const sms = softmaxSites(g);
  const shortcuts = shortcutSites(g);
  const sampling = opts.sampler !== undefined && opts.sampler.samples > 0 ? opts.sampler : undefined;
  const plan = opts.sensitivity === false && sampling === undefined ? null : tryPlan(model, opts, notes);
  const inputs = modelInputs(model);
  const sampleInput = inputs.find((i) => i.type?.dtype === 'float32')?.name ?? inputs[0]?.name ?? '';

  const stats = new Map(acts.map((a, i) => [a.tensor, new TensorStatsAccumulator({ ...cfg, seed: cfg.seed + i })]));
  const shapes = new Map<string, number[]>();
  const observers = new Map<string, Observer>();
  for (const t of plan?.targets ?? []) if (t.role === 'activation') observers.set(t.key, observerFor(t));
  const lnAcc = lns.map(() => new ChannelRangeAccumulator(opts.aBits));
  const smAcc = sms.map(() => new SoftmaxAccumulator());
  const parts = new Map<string, PartRange>(
    shortcuts.flatMap((s) => s.parts).map((p) => [p, { min: Infinity, max: -Infinity, channels: null }]),
  );
  const steps = new TimestepAccumulator(
    sampleInput,
    acts.map((a) => ({ tensor: a.tensor, node: a.uses[0]!.node })),
  );
  const probed = [
    ...new Set([
      ...acts.map((a) => a.tensor),
      ...lns.map((l) => l.ln.output),
      ...sms.map((s) => s.output),
      ...parts.keys(),
      ...(sampleInput === '' ? [] : [sampleInput]),
    ]),
  ];

  const calibFeeds: Feeds[] = [];
  let items = 0;
  const { onProgress, ...sessionOpts } = opts;
  const prober = await Prober.create(model, probed, { threads: sessionOpts.threads, device: sessionOpts.device });
  try {
    for await (const batch of opts.calib()) {
      calibFeeds.push(batch.feeds);
      const got = await prober.run(batch.feeds);
      const data = new Map<string, Float32Array>();
      for (const name of probed) {
        const t = got.get(name);
        if (t?.dtype !== 'float32') continue;
        checkFinite(t, `tensor ${name}`);
        data.set(name, t.data as Float32Array);
        if (!shapes.has(name)) shapes.set(name, [...t.dims]);
      }
      const tensor = (name: string) => floatData(name, got.get(name));
      for (const [name, acc] of stats) if (data.has(name)) acc.add(data.get(name)!);
      for (const t of plan?.targets ?? [])
        if (t.role === 'activation') observers.get(t.key)!.observe(tensor(t.tensor), got.get(t.tensor)!.dims);
      lns.forEach((l, i) => lnAcc[i]!.add(tensor(l.ln.output), got.get(l.ln.output)!.dims));
      sms.forEach((s, i) => smAcc[i]!.add(tensor(s.output), got.get(s.output)!.dims));
      for (const [name, r] of parts) {
        const [lo, hi] = minMax(tensor(name));
        r.min = Math.min(r.min, lo);
        r.max = Math.max(r.max, hi);
        r.channels ??= got.get(name)!.dims[1] ?? null;
      }
      const n = got.get(sampleInput)?.dims[0] ?? 0;
      if (batch.step !== undefined && data.has(sampleInput))
        steps.add(batch.step, batch.t ?? null, n, data.get(sampleInput)!, (name) => data.get(name) ?? tensor(name));
      items += n;
      onProgress?.('statistics', calibFeeds.length, opts.totalBatches ?? calibFeeds.length);
    }
  } finally {
    await prober.release();
  }
  if (calibFeeds.length === 0) throw dataError('calibration data is empty');
  for (const t of plan?.targets ?? []) if (t.role === 'activation') t.params = observers.get(t.key)!.compute();
  if (calibFeeds.length > 1 && [...observers.values()].some((o) => o.firstBatchOnly))
    notes.push(
      `${opts.method} observers calibrate on their first batch only: the sensitivity quantizers saw ${calibFeeds[0] === undefined ? 0 : (Object.values(calibFeeds[0])[0]?.dims[0] ?? 0)} of ${items} items (a larger --calib-batch calibrates on more)`,
    );

  const tensors: TensorStats[] = [];
  for (const q of quantizable) {
    if (q.role === 'weight') {
      const w = g.initializers.get(q.tensor)!;
      const acc = new TensorStatsAccumulator(cfg);
      const values = toFloat32(w);
      checkFinite({ dtype: 'float32', dims: w.dims, data: values }, `weight ${q.tensor}`);
      acc.add(values);
      tensors.push({ tensor: q.tensor, role: 'weight', uses: q.uses, shape: [...w.dims], ...acc.result() });
    } else if (stats.get(q.tensor)!.count > 0) {
      const r = stats.get(q.tensor)!.result();
      tensors.push({ tensor: q.tensor, role: 'activation', uses: q.uses, shape: shapes.get(q.tensor) ?? [], ...r });
    } else notes.push(`activation ${q.tensor} is not float32; no statistics`);
  }
  const statsSeconds = (performance.now() - started) / 1000;

  const shortcutInputs = new Set(shortcuts.map((s) => g.nodes.find((n) => n.name === s.conv)!.inputs[0]!));
  const activationStats = tensors.filter((t) => t.role === 'activation');
  let sensitivity = null;
  if (plan !== null && opts.sensitivity !== false) {
    sensitivity = await runSensitivity(
      model,
      plan,
      {
        calib: calibFeeds,
        ...(opts.evalBatches === undefined ? {} : { evalBatches: opts.evalBatches }),
        output: logitsOutput(model),
        wBits: opts.wBits,
        aBits: opts.aBits,
        method: opts.method,
      },
      { ...sessionOpts, onProgress: (d, t) => onProgress?.('sensitivity', d, t) },
    );
  }
  if (opts.sensitivity === false) notes.push('per-layer sensitivity: skipped on request');
  const timesteps = steps.size > 0 ? steps.result() : null;
  const isDiffusion = timesteps !== null || inputs.some((i) => i.type?.dtype === 'int64' || i.type?.dtype === 'int32');
  let errorAccumulation: ErrorAccumulation | null = null;
  if (isDiffusion && plan !== null && sampling !== undefined && sampling.samples > 0) {
    const { config } = sampling;
    errorAccumulation = await measureErrorAccumulation(model, applyFakeQuant(model, plan), config, {
      ...sessionOpts,
      samples: sampling.samples,
      batch: sampling.batch,
      seed: sampling.seed,
      label: `${config.sampler.toUpperCase()} ${config.steps} steps, ${sampling.samples} samples, W${opts.wBits}A${opts.aBits} ${opts.method}`,
      onProgress: (d, t) => onProgress?.('sampling', d, t),
    });
  } else if (isDiffusion)
    notes.push(
      `error accumulation over sampler steps: not measured (${plan === null ? 'no quantization plan' : 'no sampler samples asked'})`,
    );
  if (isDiffusion && timesteps === null) notes.push('per-step ranges: the data has no step or time-step arrays');

  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    quantlens: quantlensVersion,
    onnxruntime: onnxruntimeVersion,
    model: {
      ...opts.model,
      kind: isDiffusion ? 'diffusion' : lns.length > 0 && sms.length > 0 ? 'vit' : 'other',
      summary: summarizeModel(model),
    },
    settings: {
      wBits: opts.wBits,
      aBits: opts.aBits,
      method: opts.method,
      data: opts.data,
      calibItems: items,
      calibBatches: calibFeeds.length,
      seed: opts.seed,
      limit: opts.limit,
    },
    tensors,
    layerNorms: lns.map((l, i) => lnAcc[i]!.result(g, l)),
    softmax: sms.map((s, i) => smAcc[i]!.result(s.node, s.output)),
    sensitivity,
    timesteps,
    shortcuts: shortcuts.map((s) => analyzeShortcut(s, parts, activationStats, shortcutInputs)),
    errorAccumulation,
    notes,
    seconds: {
      stats: statsSeconds,
      sensitivity: sensitivity?.seconds ?? 0,
      total: (performance.now() - started) / 1000,
    },
  };
}
