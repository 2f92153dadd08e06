// The `<out>.quant.json` sidecar: every quantizer with its parameters, the recipe and the method. No timings, so
// the same command with the same seed writes the same bytes.

import type { QuantPlan } from './plan.js';
import type { QdqReport } from './qdq-export.js';
import type { Recipe } from './recipe.js';

export interface SidecarInput {
  method: string;
  wBits: number;
  aBits: number;
  recipe: Recipe;
  source: { model: string; sha256: string };
  /** what was fed; a calibration set built for the run (a UNet's time step-aware set) adds how it was built */
  calibration: { data: string; split: string; n: number; seed: number } & Record<string, unknown>;
  plan: QuantPlan;
  qdq: QdqReport | null;
  qdqSkipped: string | null;
  /** method-specific settings and results (RepQ-ViT's reparameterization, Q-Diffusion's reconstruction) */
  extra?: Record<string, unknown>;
}

/** Keys of method records that hold durations; they stay in the API result and the CLI's --json output. */
const TIMING_KEY = /seconds/i;

/** A copy of a method's record without its timings (at any depth), so the sidecar's bytes do not depend on them. */
export function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([k]) => !TIMING_KEY.test(k))
      .map(([k, x]) => [k, withoutTimings(x)]),
  );
}

export function buildSidecar(s: SidecarInput, versions: object): object {
  const emulated = new Map((s.qdq?.emulated ?? []).map((e) => [e.key, e.reason]));
  return {
    ...versions,
    method: s.method,
    wBits: s.wBits,
    aBits: s.aBits,
    source: s.source,
    calibration: s.calibration,
    recipe: s.recipe,
    qdq: {
      written: s.qdqSkipped === null,
      skipped: s.qdqSkipped,
      opset: s.qdq?.opsetNote ?? null,
      emulated: s.qdq?.emulated ?? [],
    },
    ...(s.extra === undefined ? {} : { extra: withoutTimings(s.extra) }),
    quantizers: s.plan.targets.map((t) => ({
      key: t.key,
      tensor: t.tensor,
      role: t.role,
      observer: t.observer,
      bits: t.bits,
      symmetric: t.symmetric,
      axis: t.axis,
      uses: t.uses,
      tags: t.tags,
      qdq: s.qdqSkipped !== null ? 'skipped' : (emulated.get(t.key) ?? 'qdq'),
      params: t.params,
    })),
  };
}
