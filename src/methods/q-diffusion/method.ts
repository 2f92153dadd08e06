// Q-Diffusion behind the method registry's one signature: option words (from `quantize` flags or `table`'s
// `q-diffusion:split=off,...`) become settings, and the result carries the sidecar's `extra`.

import { usageError } from '../../errors.js';
import type { MethodRequest, MethodResult, MethodRunner } from '../registry.js';
import { QDIFF_DEFAULTS, runQDiffusion, type QDiffusionSettings } from './pipeline.js';

type Key = 'split' | 'weightInit' | 'actInit' | 'actSymmetric';

const KEYS: Record<string, Key> = {
  split: 'split',
  weightInit: 'weightInit',
  'weight-init': 'weightInit',
  actInit: 'actInit',
  'act-init': 'actInit',
  actSymmetric: 'actSymmetric',
  'act-sym': 'actSymmetric',
};

const OPTIONS_HINT = 'options: split=on|off, weightInit=mse|max, actInit=max|mse, actSymmetric=true|false';

function bool(key: string, v: string | boolean): boolean {
  if (v === true || v === 'true' || v === 'on') return true;
  if (v === false || v === 'false' || v === 'off') return false;
  throw usageError(`q-diffusion option ${key} must be on/off (true/false), got ${String(v)}`);
}

function choice<T extends string>(key: string, v: string | boolean, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw usageError(`q-diffusion option ${key} must be ${allowed.join(' or ')}, got ${String(v)}`);
}

export function qdiffusionSettings(req: Pick<MethodRequest, 'wBits' | 'aBits' | 'options'>): QDiffusionSettings {
  const s: QDiffusionSettings = { wBits: req.wBits, aBits: req.aBits, ...QDIFF_DEFAULTS };
  for (const [k, v] of Object.entries(req.options ?? {})) {
    const key = KEYS[k];
    if (key === undefined) throw usageError(`q-diffusion has no option ${k}`, OPTIONS_HINT);
    if (key === 'split' || key === 'actSymmetric') s[key] = bool(k, v);
    else if (key === 'weightInit') s.weightInit = choice(k, v, ['mse', 'max'] as const);
    else s.actInit = choice(k, v, ['max', 'mse'] as const);
  }
  return s;
}

export const QDIFFUSION_SUMMARY =
  'Q-Diffusion without reconstruction: shortcut splitting, per-channel MSE-searched weights, per-tensor symmetric ' +
  'min-max activations, on time step-aware data for UNets (BRECQ/AdaRound and step-size learning not applied yet)';

export const runQDiffusionMethod: MethodRunner = async (model, calibFeeds, req): Promise<MethodResult> => {
  const r = await runQDiffusion(model, qdiffusionSettings(req), calibFeeds, {
    ...(req.device === undefined ? {} : { device: req.device }),
    ...(req.threads === undefined ? {} : { threads: req.threads }),
    ...(req.onProgress === undefined ? {} : { onProgress: req.onProgress }),
    ...(req.totalBatches === undefined ? {} : { totalBatches: req.totalBatches }),
    ...(req.adjustRecipe === undefined ? {} : { adjustRecipe: req.adjustRecipe }),
  });
  return {
    plan: r.plan,
    simulated: r.simulated,
    qdq: r.qdq,
    qdqReport: r.qdqReport,
    calibBatches: r.calibBatches,
    calibSeconds: r.calibSeconds,
    extra: r.extra,
  };
};
