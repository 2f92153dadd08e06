// Noise schedules of discrete-time diffusion models: betas and the cumulative products ā_t that every sampler
// works from. Float64 throughout, because ā_t spans 1 down to ~1e-5 and the samplers take square roots of 1 − ā_t.
// Pure arithmetic: imports only errors.ts and the model-info type.

import { usageError } from '../errors.js';
import type { SchedulerInfo } from '../models/model-info.js';

export type BetaSchedule = 'linear' | 'quadratic' | 'cosine';

export interface ScheduleConfig {
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
  /** T, the number of training time steps (t = 0 .. T-1) */
  trainSteps: number;
}

/** The DDPM / DDIM CIFAR-10 schedule: what a model without a recorded scheduler most likely used. */
export const DEFAULT_SCHEDULE: ScheduleConfig = {
  betaSchedule: 'linear',
  betaStart: 1e-4,
  betaEnd: 0.02,
  trainSteps: 1000,
};

// Names other code bases use for the same schedules (diffusers: scaled_linear, squaredcos_cap_v2).
const ALIASES: Record<string, BetaSchedule> = {
  linear: 'linear',
  quad: 'quadratic',
  quadratic: 'quadratic',
  scaled_linear: 'quadratic',
  cosine: 'cosine',
  squaredcos_cap_v2: 'cosine',
};

export function parseBetaSchedule(name: string): BetaSchedule {
  const s = ALIASES[name.toLowerCase()];
  if (s === undefined) throw usageError(`unknown beta schedule "${name}"`, 'use linear, quadratic or cosine');
  return s;
}

/** numpy.linspace(start, stop, n) to the last bit: i * step + start, with the end point set exactly. */
export function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step + start;
  out[n - 1] = stop;
  return out;
}

/** Nichol & Dhariwal's ā(t) for t in [0, 1], with their offset s = 0.008. */
function cosineAlphaBar(t: number): number {
  return Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
}

function checkConfig(c: ScheduleConfig): void {
  if (!Number.isInteger(c.trainSteps) || c.trainSteps < 1)
    throw usageError(`the number of training steps must be a positive integer, got ${c.trainSteps}`);
  if (c.betaSchedule === 'cosine') return; // the cosine schedule has no start/end
  const ok = (b: number) => Number.isFinite(b) && b > 0 && b < 1;
  if (!ok(c.betaStart) || !ok(c.betaEnd))
    throw usageError(`betas must lie in (0, 1), got start ${c.betaStart} and end ${c.betaEnd}`);
}

/**
 * β_0 .. β_{T-1}. linear and quadratic follow the DDIM code (`np.linspace` of β, or of √β then squared); cosine
 * follows improved-diffusion's `betas_for_alpha_bar` (β_i = min(1 − ā((i+1)/T) / ā(i/T), 0.999)).
 */
export function betas(c: ScheduleConfig): Float64Array {
  checkConfig(c);
  const T = c.trainSteps;
  switch (c.betaSchedule) {
    case 'linear':
      return linspace(c.betaStart, c.betaEnd, T);
    case 'quadratic': {
      const b = linspace(Math.sqrt(c.betaStart), Math.sqrt(c.betaEnd), T);
      for (let i = 0; i < T; i++) b[i] = b[i]! ** 2;
      return b;
    }
    case 'cosine': {
      const b = new Float64Array(T);
      for (let i = 0; i < T; i++) b[i] = Math.min(1 - cosineAlphaBar((i + 1) / T) / cosineAlphaBar(i / T), 0.999);
      return b;
    }
  }
}

/** ā_t = Π_{s ≤ t} (1 − β_s), t = 0 .. T-1. */
export function alphasCumprod(b: Float64Array): Float64Array {
  const out = new Float64Array(b.length);
  let acc = 1;
  for (let i = 0; i < b.length; i++) {
    acc *= 1 - b[i]!;
    out[i] = acc;
  }
  return out;
}

/**
 * The schedule of a model: its recorded scheduler block (manifest or metadata), field by field overridden by
 * `overrides` (flags); DEFAULT_SCHEDULE fills what neither gives. `fromDefault` says whether anything came from it.
 */
export function resolveSchedule(
  info: SchedulerInfo | undefined,
  overrides: Partial<ScheduleConfig> = {},
): { config: ScheduleConfig; fromDefault: boolean } {
  const recorded: Partial<ScheduleConfig> =
    info === undefined
      ? {}
      : {
          betaSchedule: parseBetaSchedule(info.betaSchedule),
          betaStart: info.betaStart,
          betaEnd: info.betaEnd,
          trainSteps: info.trainSteps,
        };
  const merged = { ...recorded, ...overrides };
  const config: ScheduleConfig = {
    betaSchedule: merged.betaSchedule ?? DEFAULT_SCHEDULE.betaSchedule,
    betaStart: merged.betaStart ?? DEFAULT_SCHEDULE.betaStart,
    betaEnd: merged.betaEnd ?? DEFAULT_SCHEDULE.betaEnd,
    trainSteps: merged.trainSteps ?? DEFAULT_SCHEDULE.trainSteps,
  };
  const fromDefault =
    merged.betaSchedule === undefined ||
    merged.trainSteps === undefined ||
    (config.betaSchedule !== 'cosine' && (merged.betaStart === undefined || merged.betaEnd === undefined));
  checkConfig(config);
  return { config, fromDefault };
}
