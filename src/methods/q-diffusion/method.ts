// Q-Diffusion behind the method registry's one signature: option words (from `quantize` flags or `table`'s
// `q-diffusion:split=off,...`) become settings, and the result carries the sidecar's `extra`.

import { usageError } from '../../errors.js';
import type { MethodRequest, MethodResult, MethodRunner } from '../registry.js';
import { runSettings } from '../run-settings.js';
import { QDIFF_DEFAULTS, runQDiffusion, type QDiffusionSettings, type Reconstruction } from './pipeline.js';
import { brecqReconstruction, type WeightReconstructionSettings } from './reconstruction.js';

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

const RECON_KEYS: Record<string, keyof WeightReconstructionSettings | 'recon'> = {
  recon: 'recon',
  reconIters: 'iterations',
  'recon-iters': 'iterations',
  reconBatch: 'batch',
  'recon-batch': 'batch',
  reconSeed: 'seed',
  'recon-seed': 'seed',
  reconActIters: 'activationIterations',
  'recon-act-iters': 'activationIterations',
};

const OPTIONS_HINT =
  'options: split=on|off, weightInit=mse|max, actInit=max|mse, actSymmetric=true|false, recon=on|off, ' +
  'reconIters=N, reconBatch=B, reconSeed=S, reconActIters=N';

function bool(key: string, v: string | boolean): boolean {
  if (v === true || v === 'true' || v === 'on') return true;
  if (v === false || v === 'false' || v === 'off') return false;
  throw usageError(`q-diffusion option ${key} must be on/off (true/false), got ${String(v)}`);
}

function choice<T extends string>(key: string, v: string | boolean, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw usageError(`q-diffusion option ${key} must be ${allowed.join(' or ')}, got ${String(v)}`);
}

/**
 * With reconstruction the weight ranges start from min-max, as the reference's DDIM configuration initialises them
 * before AdaRound; without it, from the MSE search (the gradient-free variant, spec §12 c). An explicit
 * weightInit wins either way.
 */
export function qdiffusionSettings(
  req: Pick<MethodRequest, 'wBits' | 'aBits' | 'options'>,
  reconstructing = false,
): QDiffusionSettings {
  const s: QDiffusionSettings = { wBits: req.wBits, aBits: req.aBits, ...QDIFF_DEFAULTS };
  if (reconstructing) s.weightInit = 'max';
  for (const [k, v] of Object.entries(req.options ?? {})) {
    if (k in RECON_KEYS) continue;
    const key = KEYS[k];
    if (key === undefined) throw usageError(`q-diffusion has no option ${k}`, OPTIONS_HINT);
    if (key === 'split' || key === 'actSymmetric') s[key] = bool(k, v);
    else if (key === 'weightInit') s.weightInit = choice(k, v, ['mse', 'max'] as const);
    else s.actInit = choice(k, v, ['max', 'mse'] as const);
  }
  return s;
}

function count(key: string, v: string | boolean, min: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw usageError(`q-diffusion option ${key} must be an integer of at least ${min}, got ${String(v)}`);
  return n;
}

/** BRECQ + AdaRound weight reconstruction when the options ask for it (recon=on, or any recon* setting). */
export function qdiffusionReconstruction(req: Pick<MethodRequest, 'options'>): Reconstruction | undefined {
  const s: WeightReconstructionSettings = {};
  let on: boolean | undefined;
  const given: string[] = [];
  for (const [k, v] of Object.entries(req.options ?? {})) {
    const key = RECON_KEYS[k];
    if (key === undefined) continue;
    if (key === 'recon') on = bool(k, v);
    else {
      s[key] = count(k, v, key === 'seed' || key === 'activationIterations' ? 0 : 1);
      given.push(k);
    }
  }
  if (on === false && given.length > 0)
    throw usageError(
      `q-diffusion option recon=off (--no-recon) contradicts ${given.join(', ')}`,
      'drop --no-recon, or the --recon-* settings (the reconIters/reconBatch/reconSeed/reconActIters options)',
    );
  if (on === false || (on === undefined && Object.keys(s).length === 0)) return undefined;
  return brecqReconstruction(s);
}

export const QDIFFUSION_SUMMARY =
  'Q-Diffusion: shortcut splitting, per-channel weights (MSE-searched ranges; min-max before reconstruction), ' +
  'per-tensor symmetric min-max activations, on time step-aware data for UNets; BRECQ + AdaRound weight ' +
  'reconstruction with recon=on (--recon), activation ' +
  'step-size learning with reconActIters=N';

export const runQDiffusionMethod: MethodRunner = async (model, calibFeeds, req): Promise<MethodResult> => {
  const reconstruction = qdiffusionReconstruction(req);
  const r = await runQDiffusion(model, qdiffusionSettings(req, reconstruction !== undefined), calibFeeds, {
    ...(reconstruction === undefined ? {} : { reconstruction }),
    ...runSettings(req),
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
