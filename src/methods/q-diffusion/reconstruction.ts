// Q-Diffusion's weight reconstruction behind the pipeline's Reconstruction hook: BRECQ + AdaRound over every unit
// in the reference walk order (methods/reconstruction/brecq.ts), on the split model with its split layers. The
// sidecar records the settings and per-unit statistics. Activation step-size learning (§4.3, lsq.ts) runs when asked
// for (`activationIterations` > 0); otherwise activation step sizes keep their initial values and the record says so.

import { reconstructWeights, type BrecqOptions } from '../reconstruction/brecq.js';
import { learnActivationSteps } from '../reconstruction/lsq.js';
import type { Reconstruction } from './pipeline.js';

export const BRECQ_RECONSTRUCTION = 'brecq-adaround';

export const ACTIVATION_STEP_NOTE =
  'activation step-size learning (q-diffusion.md §4.3) not asked for: activation step sizes keep their initial values';

export interface WeightReconstructionSettings {
  /** AdaRound iterations per unit (default 1000; the reference runs 20 000) */
  iterations?: number;
  /** minibatch size (default 32) */
  batch?: number;
  seed?: number;
  /** step-size learning iterations per unit (default 0: off; the reference runs 5000) */
  activationIterations?: number;
}

export function brecqReconstruction(s: WeightReconstructionSettings = {}): Reconstruction {
  return {
    name: BRECQ_RECONSTRUCTION,
    weights: async (ctx) => {
      const opts: BrecqOptions = {
        splits: ctx.splits,
        fp: ctx.fp,
        ...ctx.session,
        ...(s.iterations === undefined ? {} : { iterations: s.iterations }),
        ...(s.batch === undefined ? {} : { batch: s.batch }),
        ...(s.seed === undefined ? {} : { seed: s.seed }),
        ...(ctx.onProgress === undefined ? {} : { onProgress: ctx.onProgress }),
      };
      const r = await reconstructWeights(ctx.model, ctx.plan, ctx.calibFeeds, opts);
      return (s.activationIterations ?? 0) > 0 ? { ...r } : { ...r, activationStepSizes: ACTIVATION_STEP_NOTE };
    },
    ...((s.activationIterations ?? 0) > 0
      ? {
          activations: async (ctx) => {
            const r = await learnActivationSteps(ctx.model, ctx.plan, ctx.calibFeeds, {
              splits: ctx.splits,
              fp: ctx.fp,
              ...ctx.session,
              iterations: s.activationIterations!,
              ...(s.batch === undefined ? {} : { batch: s.batch }),
              ...(s.seed === undefined ? {} : { seed: s.seed }),
              ...(ctx.onProgress === undefined ? {} : { onProgress: ctx.onProgress }),
            });
            return { ...r };
          },
        }
      : {}),
  };
}
