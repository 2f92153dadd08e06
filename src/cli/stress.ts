// `quantlens stress <vit> --out x.onnx`: a function-preserving variant with heavy-tailed post-LayerNorm channel
// ranges (see models/stress.ts), checked to compute the same outputs before it is written.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeModel } from '../onnx/io/index.js';
import { makeStressVariant } from '../models/stress.js';
import { writeModelInfo } from '../models/model-info.js';
import { Session, modelInputs } from '../runtime/index.js';
import { mulberry32 } from '../data/calib.js';
import { modelError, usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import { loadModel, runtimeOptions, runtimeSettings } from './common.js';
import { print, printJson } from './output.js';

export const stressSpec: CommandSpec = {
  name: 'stress',
  summary: 'Make a function-preserving ViT variant with outlier post-LayerNorm channels (a stress test for PTQ).',
  usage: 'quantlens stress <model> --out x.onnx [--seed S]',
  positionals: [1, 1],
  options: {
    out: { type: 'string', value: 'x.onnx', help: 'output model' },
    seed: { type: 'string', value: 'S', help: 'seed of the channel factors', default: '0' },
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

/** Seeded normal inputs of the model's (static) input shape with batch 4. */
function randomFeeds(inputs: ReturnType<typeof modelInputs>): Record<string, HostTensor> {
  const rand = mulberry32(12345);
  const feeds: Record<string, HostTensor> = {};
  for (const i of inputs) {
    const dims = (i.type?.shape ?? []).map((d, k) => (typeof d === 'number' ? d : k === 0 ? 4 : NaN));
    if (i.type?.dtype !== 'float32' || dims.some((d) => !Number.isFinite(d)))
      throw usageError(`stress needs float32 inputs with static shapes (besides batch); ${i.name} is not`);
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
    feeds[i.name] = { dtype: 'float32', dims, data };
  }
  return feeds;
}

async function outputGap(
  a: Parameters<typeof Session.create>[0],
  b: typeof a,
  opts: ReturnType<typeof runtimeSettings>,
) {
  const feeds = randomFeeds(modelInputs(a));
  let gap = 0;
  let scale = 0;
  const [sa, sb] = [await Session.create(a, opts), await Session.create(b, opts)];
  const [oa, ob] = [await sa.run(feeds), await sb.run(feeds)];
  await Promise.all([sa.release(), sb.release()]);
  for (const [k, v] of Object.entries(oa)) {
    const x = v.data as Float32Array;
    const y = ob[k]!.data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      gap = Math.max(gap, Math.abs(x[i]! - y[i]!));
      scale = Math.max(scale, Math.abs(x[i]!));
    }
  }
  return { gap, relative: gap / Math.max(scale, 1e-12) };
}

export async function runStress(p: Parsed): Promise<void> {
  const out = str(p, 'out');
  if (out === undefined || !out.endsWith('.onnx')) throw usageError('stress needs --out x.onnx');
  const seed = int(p, 'seed', { min: 0 }) ?? 0;
  const loaded = loadModel(p.positionals[0]!);
  const { model, records } = makeStressVariant(loaded.model, { seed });
  const check = await outputGap(loaded.model, model, runtimeSettings(p));
  if (!(check.relative <= 1e-5))
    throw modelError(`the stress variant changed the outputs by ${check.relative} (relative); not written`);
  writeModelInfo(model, loaded.info);
  model.metadata.set('quantlens.stress', JSON.stringify({ source: loaded.entry?.name ?? loaded.path, seed, records }));
  mkdirSync(dirname(out), { recursive: true });
  writeModel(model, out);
  if (flag(p, 'json')) {
    printJson({ model: out, seed, outputGap: check, norms: records });
    return;
  }
  print(`wrote      ${out}: ${records.length} post-LayerNorm pairs rescaled (seed ${seed})`);
  for (const r of records)
    print(
      `  ${r.norm}: ${r.outliers.length} outlier channels, max factor ${r.maxFactor.toFixed(1)}, median ${r.medianFactor.toFixed(2)}`,
    );
  print(`outputs    unchanged: max gap ${check.gap.toExponential(2)} (${check.relative.toExponential(2)} relative)`);
}
