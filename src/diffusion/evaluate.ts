// FID and IS of a diffusion model: sample M images, take them to uint8 pixels (cropping the model's padding),
// push them through the feature network exactly as reference images go, and compare Gaussian statistics with the
// reference set's. Streaming: only the statistics and the logits (for IS) are kept, never the images.

import type { Model } from '../onnx/ir.js';
import { dataError } from '../errors.js';
import { StreamingStats, type GaussianStats } from '../eval/feature-stats.js';
import { fidParts } from '../eval/fid.js';
import { inceptionScore } from '../eval/inception-score.js';
import { preprocessImages, type FeatureExtractor } from '../eval/fid-features.js';
import { toUint8Images } from './images.js';
import { sampleRun, type RunOptions } from './run.js';
import type { SamplerConfig } from './sampler.js';
import { ddimTimesteps } from './timesteps.js';

export interface DiffusionEvalOptions extends RunOptions {
  seed: number;
  /** padding the model was trained with, cropped before the feature network (Fashion-MNIST 28 -> 32: 2) */
  pad?: number;
  /** Inception Score splits (default 10) */
  splits?: number;
}

export interface DiffusionEvalResult {
  task: 'diffusion';
  n: number;
  steps: number;
  seed: number;
  fid: number;
  /** Inception Score mean over the splits (null without a logits output) */
  is: number | null;
  isStd: number | null;
  imagesPerSec: number;
  /** UNet evaluations (one per image per step) per second */
  unetEvalsPerSec: number;
  sampler: string;
  eta: number;
  skip: string;
  fidMeanTerm: number;
  fidCovTerm: number;
  referenceN: number;
  featureDim: number;
}

export async function evaluateDiffusion(
  unet: Model,
  config: SamplerConfig,
  features: FeatureExtractor,
  reference: GaussianStats,
  opts: DiffusionEvalOptions,
): Promise<DiffusionEvalResult> {
  let stats: StreamingStats | undefined;
  const logits: Float32Array[] = [];
  let classes: number | undefined;
  let seconds = 0;
  let computed = 0;
  const stepsPerImage = ddimTimesteps(config.schedule.trainSteps, config.steps, config.skip).length;
  for await (const b of sampleRun(unet, config, opts)) {
    if (b.seconds > 0) {
      seconds += b.seconds;
      computed += b.x0.dims[0]!;
    }
    const imgs = toUint8Images(b.x0, opts.pad ?? 0);
    const f = await features.run(new Map([['image', preprocessImages(imgs, features.net.preprocess)]]));
    stats ??= new StreamingStats(f.dim);
    stats.add(f.features, imgs.n);
    if (f.logits !== undefined) {
      logits.push(f.logits);
      classes = f.classes;
    }
  }
  if (stats === undefined) throw dataError('no samples were generated');
  const gen = stats.finish();
  const parts = fidParts(gen, reference);
  let is: { mean: number; std: number } | undefined;
  if (classes !== undefined) {
    const all = new Float32Array(logits.reduce((a, l) => a + l.length, 0));
    let o = 0;
    for (const l of logits) {
      all.set(l, o);
      o += l.length;
    }
    is = inceptionScore(all, classes, opts.splits ?? 10);
  }
  const imagesPerSec = seconds > 0 ? computed / seconds : 0;
  return {
    task: 'diffusion',
    n: gen.n,
    steps: config.steps,
    seed: opts.seed,
    fid: parts.fid,
    is: is?.mean ?? null,
    isStd: is?.std ?? null,
    imagesPerSec,
    unetEvalsPerSec: imagesPerSec * stepsPerImage,
    sampler: config.sampler,
    eta: config.eta,
    skip: config.skip,
    fidMeanTerm: parts.meanTerm,
    fidCovTerm: parts.covTerm,
    referenceN: reference.n,
    featureDim: gen.dim,
  };
}
