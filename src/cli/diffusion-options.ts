// Flags that sample, calib-set and eval --task diffusion share: the sampler, the schedule (recorded in the model,
// overridable), seeding, batching and resumable runs.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  BatchCheckpoint,
  checkEta,
  defaultCheckpointDir,
  parseBetaSchedule,
  parseSampler,
  parseSkip,
  resolveSchedule,
  type RunMeta,
  type SamplerConfig,
  type ScheduleConfig,
} from '../diffusion/index.js';
import { describeError, ioError } from '../errors.js';
import { flag, int, numberList, str, type OptionSpec, type Parsed } from './args.js';
import type { LoadedModel } from './common.js';
import { warn } from './output.js';

export const samplerOptions: Record<string, OptionSpec> = {
  steps: { type: 'string', value: 'N', help: 'sampling steps (default: 100; DDPM: all training steps)' },
  sampler: { type: 'string', value: 'ddim|ddpm', help: "sampler (default: the model's scheduler type, else ddim)" },
  eta: { type: 'string', value: 'E', help: 'DDIM eta: 0 is deterministic, 1 is DDPM-like', default: '0' },
  skip: { type: 'string', value: 'quad|uniform', help: 'time-step spacing (default: quad; DDPM: uniform)' },
  seed: { type: 'string', value: 'S', help: 'noise seed (sample i uses stream i of the seed)', default: '0' },
  batch: { type: 'string', value: 'B', help: 'samples per UNet batch', default: '64' },
  'beta-schedule': { type: 'string', value: 'name', help: 'linear|quadratic|cosine (default: from the model)' },
  'beta-start': { type: 'string', value: 'b', help: 'first beta (default: from the model, else 1e-4)' },
  'beta-end': { type: 'string', value: 'b', help: 'last beta (default: from the model, else 0.02)' },
  'train-steps': { type: 'string', value: 'T', help: 'training time steps (default: from the model, else 1000)' },
  resume: { type: 'boolean', help: 'continue an interrupted run from its checkpoint' },
  checkpoint: { type: 'string', value: 'dir', help: 'checkpoint folder (default: under ~/.cache/quantlens/runs)' },
};

function scheduleFlags(p: Parsed): Partial<ScheduleConfig> {
  const o: Partial<ScheduleConfig> = {};
  const s = str(p, 'beta-schedule');
  if (s !== undefined) o.betaSchedule = parseBetaSchedule(s);
  const start = numberList(p, 'beta-start')?.[0];
  const end = numberList(p, 'beta-end')?.[0];
  const T = int(p, 'train-steps', { min: 1 });
  if (start !== undefined) o.betaStart = start;
  if (end !== undefined) o.betaEnd = end;
  if (T !== undefined) o.trainSteps = T;
  return o;
}

export function samplerConfig(p: Parsed, loaded: LoadedModel, quiet: boolean): SamplerConfig {
  const { config: schedule, fromDefault } = resolveSchedule(loaded.info.scheduler, scheduleFlags(p));
  if (fromDefault && !quiet)
    warn(
      `no noise schedule recorded for this model; using ${schedule.betaSchedule} betas ${schedule.betaStart}..${schedule.betaEnd}, T = ${schedule.trainSteps} (see --beta-schedule)`,
    );
  const recorded = loaded.info.scheduler?.type;
  const sampler = parseSampler(str(p, 'sampler') ?? (recorded === 'ddpm' ? 'ddpm' : 'ddim'));
  const eta = numberList(p, 'eta')?.[0] ?? 0;
  checkEta(eta);
  const steps = int(p, 'steps', { min: 1 }) ?? (sampler === 'ddpm' ? schedule.trainSteps : 100);
  const skip = parseSkip(str(p, 'skip') ?? (sampler === 'ddpm' ? 'uniform' : 'quad'));
  return { sampler, steps, skip, eta, schedule };
}

export function seedFlag(p: Parsed): number {
  return int(p, 'seed', { min: 0 }) ?? 0;
}

export function batchFlag(p: Parsed): number {
  return int(p, 'batch', { min: 1 }) ?? 64;
}

export function fileSha256(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    throw ioError(`cannot read ${path}: ${describeError(e)}`);
  }
}

/** The run's checkpoint: --checkpoint, else a cache folder named by the run's settings. */
export function openCheckpoint(p: Parsed, kind: string, meta: RunMeta): BatchCheckpoint {
  const dir = str(p, 'checkpoint') ?? defaultCheckpointDir(kind, meta);
  return BatchCheckpoint.open(dir, meta, flag(p, 'resume'));
}

/** Padding of the model's training images, cropped from samples (recorded preprocess.pad). */
export function modelPad(loaded: LoadedModel): number {
  return loaded.info.preprocess?.pad ?? 0;
}
