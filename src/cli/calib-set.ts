// `quantlens calib-set <unet> --kept K | --interval c --per-step n --out calib.npz`: Q-Diffusion's time step-aware
// calibration data, an NPZ whose arrays are named after the UNet inputs (plus `step`), for `quantize --data`.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseSelect, type StepSelection } from '../diffusion/index.js';
import { writeNpz } from '../data/npz.js';
import { usageError } from '../errors.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import { loadModel, runtimeOptions } from './common.js';
import { samplerConfig, samplerOptions, seedFlag } from './diffusion-options.js';
import { print, printJson } from './output.js';
import { buildStepAwareSet } from './step-calib.js';

export const calibSetSpec: CommandSpec = {
  name: 'calib-set',
  summary: 'Build a time step-aware calibration set (x_t, t) from the FP sampler (Q-Diffusion).',
  usage:
    'quantlens calib-set <unet> --out calib.npz [--steps N] [--kept K | --interval c] [--per-step n] [--select uniform|first|middle|last] [--resume]',
  positionals: [1, 1],
  options: {
    out: { type: 'string', value: 'file.npz', help: 'output NPZ (arrays named after the UNet inputs, plus step)' },
    kept: { type: 'string', value: 'K', help: 'kept sampling steps, interval steps // K (default: 20)' },
    interval: { type: 'string', value: 'c', help: 'keep every c-th sampling step (instead of --kept)' },
    'per-step': { type: 'string', value: 'n', help: 'samples per kept step (trajectories)', default: '256' },
    select: {
      type: 'string',
      value: 'name',
      help: 'uniform, or first|middle|last (ablation: K steps within a half-length window)',
      default: 'uniform',
    },
    ...samplerOptions,
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

export async function runCalibSet(p: Parsed): Promise<void> {
  const json = flag(p, 'json');
  const out = str(p, 'out');
  if (out === undefined) throw usageError('calib-set needs --out <file.npz>');
  if (!/\.npz$/i.test(out)) throw usageError(`--out must end in .npz, got ${out}`);
  mkdirSync(dirname(out), { recursive: true });
  const interval = int(p, 'interval', { min: 1 });
  const keptFlag = int(p, 'kept', { min: 1 });
  if (interval !== undefined && keptFlag !== undefined) throw usageError('give --kept or --interval, not both');
  const kept = interval === undefined ? (keptFlag ?? 20) : undefined;
  const perStep = int(p, 'per-step', { min: 1 }) ?? 256;
  const select = parseSelect(str(p, 'select') ?? 'uniform');
  const loaded = loadModel(p.positionals[0]!);
  const config = samplerConfig(p, loaded, json);
  const seed = seedFlag(p);
  const selection: StepSelection = interval === undefined ? { select, kept: kept! } : { select, interval };
  const { set, resumedBatches, seconds } = await buildStepAwareSet(p, loaded, config, 'calib-set', {
    seed,
    perStep,
    selection,
    quiet: json,
    save: (s) => writeNpz(out, s.arrays),
  });
  const result = {
    task: 'calib-set',
    out,
    samples: set.steps.length * perStep,
    perStep,
    select,
    nsteps: set.nsteps,
    keptSteps: set.steps,
    timesteps: set.timesteps,
    arrays: [...set.arrays.keys()],
    seed,
    resumedBatches,
    seconds,
  };
  if (json) {
    printJson(result);
    return;
  }
  print(
    `wrote      ${out}: ${result.samples} samples (${set.steps.length} steps x ${perStep}), arrays ${result.arrays.join(', ')}`,
  );
  print(`steps      ${set.steps.join(', ')} of ${set.nsteps}`);
  print(`t          ${set.timesteps.join(', ')}`);
}
