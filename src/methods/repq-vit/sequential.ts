// Sequential calibration, as the official RepQ-ViT code gets it from lazy initialisation in one forward pass
// (repq-vit.md §5 step 4): every activation quantizer calibrates on its first batch with everything upstream of it
// already quantized (weights and activations). Quantizers are grouped by depth, the number of quantizers on the
// longest path above their input; a group can be probed as soon as every shallower quantizer has parameters.
// Two ways to run the groups, with the same numbers (same op chains as the final simulation, ORT optimizations off):
//   - 'sliced' (default, sequential-sliced.ts): one small session per level over only the nodes that level adds,
//     earlier values kept between runs: about one forward pass of compute in all;
//   - 'switched' (sequential-switched.ts): one session over the whole model with switchable quantizers, one full
//     run per level.
// Nothing here is specific to RepQ-ViT. Imports fake-quant and the two strategies.

import type { Model } from '../../onnx/ir.js';
import { modelError } from '../../errors.js';
import { applyFakeQuant, type FakeQuantOptions } from '../../quant/fake-quant.js';
import type { QuantPlan } from '../../quant/plan.js';
import type { Feeds } from '../../runtime/index.js';
import type { SequentialOptions, SequentialStats } from './sequential-common.js';
import { calibrateSliced } from './sequential-sliced.js';
import { calibrateSwitched } from './sequential-switched.js';

export { joinBatches, type SequentialOptions, type SequentialStats } from './sequential-common.js';

/**
 * Calibrates every activation target of `plan` without parameters on `batch` (one batch: the search observers
 * use their first batch only), each with all quantizers above it applied. Weight targets must already be
 * calibrated; activation targets that already have parameters are applied as they are. Records the rank of
 * per-channel activations in `model`'s value_info (the fake-quant pass needs it to shape their parameters).
 */
export async function calibrateSequential(
  model: Model,
  plan: QuantPlan,
  batch: Feeds,
  opts: SequentialOptions = {},
): Promise<SequentialStats> {
  const t0 = performance.now();
  const pending = plan.targets.filter((t) => t.params === undefined);
  const stray = pending.find((t) => t.role === 'weight');
  if (stray !== undefined) throw modelError(`weight quantizer ${stray.key} must be calibrated before activations`);
  const fixed: QuantPlan = { recipe: plan.recipe, targets: plan.targets.filter((t) => t.params !== undefined) };
  const fq: FakeQuantOptions = opts.emit === undefined ? {} : { emit: opts.emit };
  const base = applyFakeQuant(model, fixed, fq);
  const prep = (performance.now() - t0) / 1000;
  const run = opts.strategy === 'switched' ? calibrateSwitched : calibrateSliced;
  const stats = await run(model, base, pending, batch, opts);
  stats.buildSeconds += prep;
  return stats;
}
