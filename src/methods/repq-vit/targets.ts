// What RepQ-ViT quantizes and with which quantizer (repq-vit.md §1): every MatMul/Gemm/Conv weight per output
// channel and every activation input per tensor, all with the quantile-MSE search; the patch-embedding input at 8
// bits; post-LayerNorm inputs per channel (last axis) during calibration; post-Softmax with log-√2. The ablation
// switches pick other quantizers for the two special classes. Imports the recipe/plan layer only.

import type { Model } from '../../onnx/ir.js';
import { usageError } from '../../errors.js';
import { planQuantization, type QuantPlan } from '../../quant/plan.js';
import { defaultRecipe, type ObserverName, type Recipe } from '../../quant/recipe.js';
import type { PostLnPair } from './post-ln-pairs.js';

export const POST_LN_MODES = ['layer', 'channel', 'reparam'] as const;
export const POST_SOFTMAX_MODES = ['uniform', 'log2', 'logsqrt2', 'reparam'] as const;
export type PostLnMode = (typeof POST_LN_MODES)[number];
export type PostSoftmaxMode = (typeof POST_SOFTMAX_MODES)[number];

export interface RepqSettings {
  wBits: number;
  aBits: number;
  /** layer: per-tensor; channel: per-channel kept (simulation only); reparam: per-channel, then reparameterized */
  postLn: PostLnMode;
  /** uniform (quantile-MSE), log2, logsqrt2, or reparam (log-√2 computed in its bit-shift form) */
  postSoftmax: PostSoftmaxMode;
  /** z~ = round(mean(z)) instead of the official unrounded mean: makes the reparameterization exact */
  roundZeroPoint: boolean;
}

export const TAG_POST_LN = 'post-layernorm';
export const TAG_POST_SOFTMAX = 'post-softmax';

export function checkModes(postLn: string, postSoftmax: string): { postLn: PostLnMode; postSoftmax: PostSoftmaxMode } {
  if (!(POST_LN_MODES as readonly string[]).includes(postLn))
    throw usageError(`--post-ln must be one of ${POST_LN_MODES.join(', ')}, got ${postLn}`);
  if (!(POST_SOFTMAX_MODES as readonly string[]).includes(postSoftmax))
    throw usageError(`--post-softmax must be one of ${POST_SOFTMAX_MODES.join(', ')}, got ${postSoftmax}`);
  return { postLn: postLn as PostLnMode, postSoftmax: postSoftmax as PostSoftmaxMode };
}

/** The recipe of the official classification code: quantile-MSE everywhere, conv (patch-embedding) input at 8 bits. */
export function repqRecipe(wBits: number, aBits: number): Recipe {
  const r = defaultRecipe(wBits, aBits, 'mse-quantile');
  if (aBits < 32) r.overrides.push({ opType: 'Conv', aBits: 8 });
  return r;
}

function softmaxObserver(mode: PostSoftmaxMode): ObserverName {
  return mode === 'uniform' ? 'mse-quantile' : mode === 'log2' ? 'log2' : 'logsqrt2';
}

/** The plan, with post-LayerNorm and post-Softmax targets tagged and given their quantizers. */
export function planRepq(
  model: Model,
  s: RepqSettings,
  pairs: readonly PostLnPair[],
  adjustRecipe?: (r: Recipe) => Recipe,
): QuantPlan {
  const base = repqRecipe(s.wBits, s.aBits);
  const plan = planQuantization(model, adjustRecipe?.(base) ?? base);
  const postLn = new Set(pairs.map((p) => p.tensor));
  for (const t of plan.targets) {
    if (t.role !== 'activation') continue;
    if (postLn.has(t.tensor)) {
      t.tags.push(TAG_POST_LN);
      // The last axis whatever the rank: [B, N, C] in ViTs, [B·nW, N, C] after Swin's window partition.
      t.axis = s.postLn === 'layer' ? null : -1;
    } else if (model.graph.producerOf(t.tensor)?.opType === 'Softmax') {
      t.tags.push(TAG_POST_SOFTMAX);
      t.observer = softmaxObserver(s.postSoftmax);
    }
  }
  return plan;
}
