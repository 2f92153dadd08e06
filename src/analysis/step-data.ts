// Calibration batches from a time step-aware calibration set (NPZ with the UNet's inputs and `step`, as
// `quantlens calib-set` writes; any NPZ with those keys works): items grouped by sampler step, an equal seeded
// share of each step, one step per batch, so per-step statistics need no per-item bookkeeping.
// Imports data/ (seeded subsets) and the runtime's feed binding.

import { calibrationIndices } from '../data/calib.js';
import type { Dataset } from '../data/types.js';
import { bindFeeds, type InputSpec } from '../runtime/index.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { CalibBatch } from './analyze.js';

export const STEP_ARRAY = 'step';

export interface StepPlan {
  /** per step (ascending): its value, the time-step value of its items (when uniform) and chosen item indices */
  groups: { step: number; t: number | null; indices: number[] }[];
  items: number;
}

const values = (t: HostTensor) => Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));

/**
 * Groups items by `step` (or, without one, by the time-step input), and picks ceil(n / steps) items of each
 * group with the seeded subset generator (all of a smaller group).
 */
export function planSteps(
  arrays: ReadonlyMap<string, HostTensor>,
  timeInput: string | undefined,
  n: number,
  seed: number,
): StepPlan | null {
  const stepArr = arrays.get(STEP_ARRAY) ?? (timeInput === undefined ? undefined : arrays.get(timeInput));
  if (stepArr === undefined || stepArr.dims.length !== 1) return null;
  const steps = values(stepArr);
  const t = timeInput === undefined ? undefined : arrays.get(timeInput);
  const tv = t !== undefined && t.dims.length === 1 ? values(t) : undefined;
  const byStep = new Map<number, number[]>();
  steps.forEach((s, i) => {
    const list = byStep.get(s) ?? [];
    list.push(i);
    byStep.set(s, list);
  });
  const keys = [...byStep.keys()].sort((a, b) => a - b);
  const per = Math.max(1, Math.ceil(n / keys.length));
  const groups = keys.map((step) => {
    const all = byStep.get(step)!;
    const pick = calibrationIndices(all.length, Math.min(per, all.length), seed + step).map((k) => all[k]!);
    const ts = tv === undefined ? [] : [...new Set(all.map((i) => tv[i]!))];
    return { step, t: ts.length === 1 ? ts[0]! : null, indices: pick };
  });
  return { groups, items: groups.reduce((s, g) => s + g.indices.length, 0) };
}

/** The plan's items as batches of at most `batch`, never mixing steps. */
export async function* stepBatches(
  dataset: Dataset,
  plan: StepPlan,
  inputs: readonly InputSpec[],
  batch: number,
): AsyncGenerator<CalibBatch> {
  for (const g of plan.groups)
    for await (const b of dataset.batches(batch, { indices: g.indices }))
      yield { feeds: bindFeeds(inputs, b.inputs), step: g.step, t: g.t };
}

export function countStepBatches(plan: StepPlan, batch: number): number {
  return plan.groups.reduce((s, g) => s + Math.ceil(g.indices.length / batch), 0);
}
