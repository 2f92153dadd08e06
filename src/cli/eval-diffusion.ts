// `quantlens eval <unet> --task diffusion --features <model> --data <reference set>`: FID and IS of sampled images
// against a reference set's feature statistics (the training split by default, as the papers; cached).

import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { evaluateDiffusion, runMeta } from '../diffusion/index.js';
import { FeatureExtractor, referenceStats, type FeatureNet } from '../eval/fid-features.js';
import { usageError } from '../errors.js';
import type { OptionSpec, Parsed } from './args.js';
import { int, str } from './args.js';
import { loadModel, resolvePreprocess, runtimeSettings, type LoadedModel } from './common.js';
import { openDataArg } from './data-arg.js';
import {
  batchFlag,
  fileSha256,
  modelPad,
  openCheckpoint,
  samplerConfig,
  samplerOptions,
  seedFlag,
} from './diffusion-options.js';
import { print, printJson, progress } from './output.js';

const { batch: _batch, ...shared } = samplerOptions;

/** Options eval gains for --task diffusion (its own --batch, --data and --split are shared). */
export const diffusionEvalOptions: Record<string, OptionSpec> = {
  samples: { type: 'string', value: 'M', help: 'diffusion: images to generate', default: '5000' },
  features: { type: 'string', value: 'model', help: 'diffusion: feature network (ONNX or shipped name) for FID/IS' },
  'features-output': {
    type: 'string',
    value: 'name',
    help: 'diffusion: feature output (default: features, else the first)',
  },
  'logits-output': {
    type: 'string',
    value: 'name',
    help: 'diffusion: logits output for IS (default: logits if present)',
  },
  splits: { type: 'string', value: 'n', help: 'diffusion: Inception Score splits', default: '10' },
  ...shared,
};

function featureNet(p: Parsed, loaded: LoadedModel, quiet: boolean): FeatureNet {
  const names = loaded.model.graph.outputs.map((o) => o.name);
  const featuresOutput = str(p, 'features-output') ?? (names.includes('features') ? 'features' : names[0]!);
  const logits =
    str(p, 'logits-output') ?? (names.includes('logits') && featuresOutput !== 'logits' ? 'logits' : undefined);
  return {
    model: loaded.model,
    sha256: fileSha256(loaded.path),
    featuresOutput,
    ...(logits === undefined ? {} : { logitsOutput: logits }),
    preprocess: resolvePreprocess(loaded, quiet),
  };
}

export async function runEvalDiffusion(p: Parsed, loaded: LoadedModel, json: boolean): Promise<void> {
  const featRef = str(p, 'features');
  if (featRef === undefined)
    throw usageError('eval --task diffusion needs --features <model>', 'e.g. --features fmnist-features');
  const dataArg = str(p, 'data');
  if (dataArg === undefined)
    throw usageError(
      'eval --task diffusion needs --data <reference set>',
      'e.g. --data fashion-mnist (its training split)',
    );
  const samples = int(p, 'samples', { min: 1 }) ?? 5000;
  const splits = int(p, 'splits', { min: 1 }) ?? 10;
  const config = samplerConfig(p, loaded, json);
  const seed = seedFlag(p);
  const batch = batchFlag(p);
  const runtime = runtimeSettings(p);
  const net = featureNet(p, loadModel(featRef), json);
  const extractor = await FeatureExtractor.create(net, runtime);
  try {
    const dataset = await openDataArg(p, dataArg, 'train', net.preprocess);
    // The dataset size is part of the cache key too, so a folder without splits cannot alias a split's statistics.
    const key = { dataset: existsSync(dataArg) ? resolve(dataArg) : dataArg, split: str(p, 'split') ?? 'train' };
    const ref = await referenceStats(extractor, dataset, key, { batch: 256, onProgress: progress('reference', json) });
    const meta = runMeta('eval', fileSha256(loaded.path), config, { seed, samples, batch });
    const checkpoint = openCheckpoint(p, 'eval', meta);
    const result = await evaluateDiffusion(loaded.model, config, extractor, ref.stats, {
      ...runtime,
      seed,
      samples,
      batch,
      splits,
      pad: modelPad(loaded),
      checkpoint,
      onProgress: progress('sample', json),
    });
    checkpoint.remove();
    if (json) {
      printJson({ ...result, reference: { data: dataArg, n: ref.stats.n, cached: ref.cached } });
      return;
    }
    print(`model      ${loaded.path}`);
    print(`sampler    ${config.sampler}, ${config.steps} steps (${config.skip}), eta ${config.eta}, seed ${seed}`);
    print(`reference  ${dataArg} (${ref.stats.n} images${ref.cached ? ', cached statistics' : ''})`);
    print(`FID        ${result.fid.toFixed(3)} (${result.n} samples, ${result.featureDim}-d features)`);
    if (result.is !== null)
      print(`IS         ${result.is.toFixed(3)} ± ${result.isStd!.toFixed(3)} (${splits} splits)`);
    print(
      `speed      ${result.imagesPerSec.toFixed(2)} images/s, ${result.unetEvalsPerSec.toFixed(1)} UNet evaluations/s`,
    );
  } finally {
    await extractor.release();
  }
}
