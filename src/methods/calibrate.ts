// Calibration shared by the methods: weights are observed straight from their initializers; activations are probed
// from ORT batch by batch and streamed into one observer per quantizer. Nothing keeps whole activations around.

import type { Model } from '../onnx/ir.js';
import { toFloat32 } from '../onnx/tensor.js';
import { Prober, type Feeds, type SessionOptions } from '../runtime/index.js';
import { dataError, modelError } from '../errors.js';
import { createObserver } from '../quant/observers/index.js';
import type { Observer } from '../quant/observers/types.js';
import type { QuantPlan, QuantTarget } from '../quant/plan.js';
import { checkFinite } from '../data/finite.js';

export interface CalibrationOptions extends SessionOptions {
  onProgress?: (done: number, total: number) => void;
  /** number of calibration batches, for progress only */
  totalBatches?: number;
}

export function observerFor(t: QuantTarget): Observer {
  // Log quantizers are per-tensor and unsigned by construction; they take no grid options.
  if (t.observer === 'log2' || t.observer === 'logsqrt2') return createObserver(t.observer, { bits: t.bits });
  return createObserver(t.observer, { bits: t.bits, symmetric: t.symmetric, axis: t.axis });
}

/** Fill `params` of every weight target from its initializer. */
export function calibrateWeights(model: Model, plan: QuantPlan): void {
  for (const t of plan.targets) {
    if (t.role !== 'weight') continue;
    const w = model.graph.initializers.get(t.tensor);
    if (w === undefined) throw modelError(`weight ${t.tensor} is not an initializer`);
    const data = toFloat32(w);
    // NaN/Inf in a weight would give a NaN or infinite scale (or an observer error that names no tensor).
    checkFinite({ dtype: 'float32', dims: w.dims, data }, `weight ${t.tensor}`);
    const obs = observerFor(t);
    obs.observe(data, w.dims);
    t.params = obs.compute();
  }
}

/**
 * Fill `params` of every activation target by probing `model` on the calibration feeds. Observers that calibrate on
 * their first batch only (the search-based ones) see exactly one batch: give them the calibration set as one batch.
 */
export async function calibrateActivations(
  model: Model,
  plan: QuantPlan,
  feeds: AsyncIterable<Feeds> | Iterable<Feeds>,
  opts: CalibrationOptions = {},
): Promise<number> {
  const targets = plan.targets.filter((t) => t.role === 'activation');
  if (targets.length === 0) return 0;
  const observers = new Map(targets.map((t) => [t.key, observerFor(t)]));
  const tensors = [...new Set(targets.map((t) => t.tensor))];
  const prober = await Prober.create(model, tensors, opts);
  let batches = 0;
  try {
    for await (const f of feeds) {
      const got = await prober.run(f);
      for (const t of targets) {
        const v = got.get(t.tensor)!;
        if (v.dtype !== 'float32') throw modelError(`activation ${t.tensor} is ${v.dtype}, not float32`);
        checkFinite(v, `activation ${t.tensor}`);
        observers.get(t.key)!.observe(v.data as Float32Array, v.dims);
      }
      batches++;
      opts.onProgress?.(batches, opts.totalBatches ?? batches);
    }
  } finally {
    await prober.release();
  }
  if (batches === 0) throw dataError('calibration data is empty');
  for (const t of targets) t.params = observers.get(t.key)!.compute();
  return batches;
}
