// `quantlens eval <model> --data <path>`: accuracy and throughput of a classifier, or with --task diffusion the FID
// and IS of a diffusion model's samples (eval-diffusion.ts).

import { evaluateClassification, logitsOutput } from '../eval/classification.js';
import { evaluateAgreement } from '../eval/agreement.js';
import { usageError } from '../errors.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import { flagInfo, loadModel, modelInfoOptions, resolvePreprocess, runtimeOptions, runtimeSettings } from './common.js';
import { openDataArg, dataOptions } from './data-arg.js';
import { print, printJson, progress } from './output.js';
import { diffusionEvalOptions, runEvalDiffusion } from './eval-diffusion.js';

export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'Evaluate a model on a dataset (classification: top-1, top-5; diffusion: FID, IS).',
  usage:
    'quantlens eval <model> --data <path> [--limit N] [--batch B] [--json] | eval <unet> --task diffusion --features <model> --data <reference> [--samples M] [--steps N]',
  positionals: [1, 1],
  options: {
    data: {
      type: 'string',
      value: 'path',
      help: 'dataset: IDX folder, CIFAR-10 binary, ImageFolder, .npz; or fashion-mnist, cifar10',
    },
    ...dataOptions('test'),
    split: {
      type: 'string',
      value: 'train|test',
      help: 'split where the data has both (default: test; diffusion: train)',
    },
    limit: { type: 'string', value: 'N', help: 'evaluate the first N items only' },
    batch: { type: 'string', value: 'B', help: 'batch size', default: '64' },
    task: { type: 'string', value: 'classification|diffusion', help: 'what to measure (default: from the model)' },
    output: { type: 'string', value: 'name', help: 'output holding the logits (default: logits or the first)' },
    reference: {
      type: 'string',
      value: 'model',
      help: 'also report output SQNR, cosine and top-1 agreement with this (FP) model',
    },
    ...diffusionEvalOptions,
    ...modelInfoOptions,
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

export async function runEval(p: Parsed): Promise<void> {
  const json = flag(p, 'json');
  const loaded = loadModel(p.positionals[0]!, flagInfo(p));
  const task =
    str(p, 'task') ?? (loaded.info.task === 'features' ? 'classification' : loaded.info.task) ?? 'classification';
  if (task === 'diffusion') return runEvalDiffusion(p, loaded, json);
  if (task !== 'classification')
    throw usageError(`eval --task ${task} is not available`, 'use --task classification or --task diffusion');
  const dataPath = str(p, 'data');
  if (dataPath === undefined)
    throw usageError('eval needs --data <path>', 'e.g. --data fashion-mnist or --data path/to/imagefolder');
  const dataset = await openDataArg(p, dataPath, 'test', resolvePreprocess(loaded, json), loaded.info.labels);
  const limit = int(p, 'limit', { min: 1 });
  const result = await evaluateClassification(loaded.model, dataset, {
    ...runtimeSettings(p),
    batch: int(p, 'batch', { min: 1 }) ?? 64,
    ...(limit === undefined ? {} : { limit }),
    ...(str(p, 'output') === undefined ? {} : { output: str(p, 'output')! }),
    onProgress: progress('eval', json),
  });
  const refArg = str(p, 'reference');
  const agreement =
    refArg === undefined
      ? undefined
      : await evaluateAgreement(
          loaded.model,
          loadModel(refArg).model,
          dataset,
          logitsOutput(loaded.model, str(p, 'output')),
          {
            ...runtimeSettings(p),
            batch: int(p, 'batch', { min: 1 }) ?? 64,
            ...(limit === undefined ? {} : { limit }),
          },
        );
  if (json) {
    printJson(agreement === undefined ? result : { ...result, reference: { model: refArg, ...agreement } });
    return;
  }
  print(`model      ${loaded.path}`);
  print(`data       ${dataset.name} (${result.n} images)`);
  print(`top-1      ${(result.top1 * 100).toFixed(2)}%`);
  print(`top-5      ${(result.top5 * 100).toFixed(2)}%`);
  print(`speed      ${result.imagesPerSec.toFixed(1)} images/s`);
  if (agreement !== undefined) {
    print(
      `vs         ${refArg}: output SQNR ${agreement.sqnrDb.toFixed(2)} dB, cosine ${agreement.cosine.toFixed(5)}, top-1 agreement ${(agreement.top1Agreement * 100).toFixed(2)}%`,
    );
  }
}
