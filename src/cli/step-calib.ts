// The time step-aware calibration set as the CLI builds it, in one place: `calib-set` writes it to an NPZ and
// `quantize` without --data calibrates on it, both from the same flags, run metadata and resumable checkpoint
// (docs/diffusion.md promises quantize builds it exactly as calib-set).

import {
  buildCalibrationSet,
  runMeta,
  type CalibSet,
  type SamplerConfig,
  type StepSelection,
} from '../diffusion/index.js';
import type { Parsed } from './args.js';
import { runtimeSettings, type LoadedModel } from './common.js';
import { batchFlag, fileSha256, openCheckpoint } from './diffusion-options.js';
import { progress } from './output.js';

export interface StepAwareSet {
  set: CalibSet;
  /** batches taken from the checkpoint of an interrupted run */
  resumedBatches: number;
  seconds: number;
}

/**
 * Builds the set with the FP sampler; `save` (e.g. writing the NPZ) runs before the checkpoint is removed, so a
 * failed save can be resumed.
 */
export async function buildStepAwareSet(
  p: Parsed,
  loaded: LoadedModel,
  config: SamplerConfig,
  task: string,
  o: { seed: number; perStep: number; selection: StepSelection; quiet: boolean; save?: (set: CalibSet) => void },
): Promise<StepAwareSet> {
  const { seed, perStep, selection: sel } = o;
  const batch = batchFlag(p);
  const meta = runMeta(task, fileSha256(loaded.path), config, {
    seed,
    batch,
    perStep,
    select: sel.select,
    interval: sel.interval ?? null,
    kept: sel.kept ?? null,
  });
  const checkpoint = openCheckpoint(p, 'calib', meta);
  const start = performance.now();
  const set = await buildCalibrationSet(loaded.model, config, {
    ...runtimeSettings(p),
    seed,
    perStep,
    batch,
    ...sel,
    checkpoint,
    onProgress: progress('calib-set', o.quiet),
  });
  o.save?.(set);
  checkpoint.remove();
  return { set, resumedBatches: checkpoint.resumed, seconds: (performance.now() - start) / 1000 };
}
