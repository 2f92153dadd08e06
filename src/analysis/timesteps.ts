// Q-Diffusion's "activation distributions vary across time steps" as numbers: for each sampler step of a time
// step-aware calibration set, the distribution of the UNet input x_t (box: min, 1st, 50th, 99th percentile, max)
// and the range of every quantizable activation, plus each tensor's drift (largest per-step range / smallest).
// Batches must hold one step each (the caller groups items by step). Imports the tensor statistics.

import { TensorStatsAccumulator, type StatsConfig } from './tensor-stats.js';
import type { TimestepAnalysis } from './types.js';

/** Small per-step samplers: a step holds few items, and there can be a thousand steps. */
const STEP_STATS: StatsConfig = { reservoir: 4096, tail: 256, bins: 64, seed: 0 };

interface StepState {
  t: number | null;
  items: number;
  input: TensorStatsAccumulator;
  min: Float64Array;
  max: Float64Array;
}

export function minMax(x: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export class TimestepAccumulator {
  private readonly steps = new Map<number, StepState>();

  constructor(
    private readonly input: string,
    private readonly tensors: readonly { tensor: string; node: string }[],
  ) {}

  /** One batch of one step: x_t and the probed activations (by tensor name). */
  add(step: number, t: number | null, items: number, x: Float32Array, probed: (tensor: string) => Float32Array): void {
    let s = this.steps.get(step);
    if (s === undefined) {
      s = {
        t,
        items: 0,
        input: new TensorStatsAccumulator({ ...STEP_STATS, seed: step }),
        min: new Float64Array(this.tensors.length).fill(Infinity),
        max: new Float64Array(this.tensors.length).fill(-Infinity),
      };
      this.steps.set(step, s);
    }
    s.items += items;
    s.input.add(x);
    this.tensors.forEach(({ tensor }, i) => {
      const [lo, hi] = minMax(probed(tensor));
      s.min[i] = Math.min(s.min[i]!, lo);
      s.max[i] = Math.max(s.max[i]!, hi);
    });
  }

  get size(): number {
    return this.steps.size;
  }

  result(): TimestepAnalysis {
    const order = [...this.steps.keys()].sort((a, b) => a - b);
    const states = order.map((k) => this.steps.get(k)!);
    const box = states.map((s) => s.input.result([1, 50, 99]));
    return {
      steps: order,
      t: states.map((s) => s.t),
      items: states.map((s) => s.items),
      input: this.input,
      inputBox: {
        min: box.map((b) => b.min),
        p1: box.map((b) => b.percentiles[0]!.value),
        p50: box.map((b) => b.percentiles[1]!.value),
        p99: box.map((b) => b.percentiles[2]!.value),
        max: box.map((b) => b.max),
      },
      tensors: this.tensors.map(({ tensor, node }, i) => {
        const min = states.map((s) => s.min[i]!);
        const max = states.map((s) => s.max[i]!);
        return { tensor, node, min, max, drift: drift(min, max) };
      }),
    };
  }
}

/** Largest per-step range over the smallest (1 for a single step; Infinity when some step is constant). */
export function drift(min: readonly number[], max: readonly number[]): number {
  const ranges = max.map((m, i) => m - min[i]!);
  const hi = Math.max(...ranges);
  const lo = Math.min(...ranges);
  if (ranges.length === 0) return 1;
  return lo > 0 ? hi / lo : hi > 0 ? Infinity : 1;
}
