// `quantlens quantize <model> --method ... --out d/x.onnx`: calibrate and write the simulated model, the QDQ export
// (where representable) and the sidecar.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeModel } from '../onnx/io/index.js';
import { writeModelInfo } from '../models/model-info.js';
import { getMethod, methodNames, methodSummary } from '../methods/registry.js';
import { POST_LN_MODES, POST_SOFTMAX_MODES, checkModes } from '../methods/repq-vit/index.js';
import { defaultRecipe, loadRecipeFile, type Recipe } from '../quant/recipe.js';
import { buildSidecar } from '../quant/sidecar.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { usageError } from '../errors.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import { calibOptions, openCalibData, type CalibData } from './calib-data.js';
import { diffusionCalibOptions } from './diffusion-calib.js';
import { flagInfo, loadModel, modelInfoOptions, runtimeOptions, runtimeSettings } from './common.js';
import { print, printJson, progress, withVersions } from './output.js';

export const quantizeSpec: CommandSpec = {
  name: 'quantize',
  summary: 'Post-training quantization: writes the simulated model, a QDQ export and a .quant.json sidecar.',
  usage: 'quantlens quantize <model> --method M --w-bits B --a-bits B [--data <path>] --out d/x.onnx',
  positionals: [1, 1],
  options: {
    method: { type: 'string', value: 'name', help: `PTQ method: ${methodNames().join(', ')}`, default: 'minmax' },
    'w-bits': { type: 'string', value: 'B', help: 'weight bits (2-16; 32 = float)', default: '8' },
    'a-bits': { type: 'string', value: 'B', help: 'activation bits (2-16; 32 = float)', default: '8' },
    recipe: { type: 'string', value: 'file.yaml', help: 'what to quantize: classes, observers, overrides' },
    'post-ln': {
      type: 'string',
      value: POST_LN_MODES.join('|'),
      help: 'repq-vit: post-LayerNorm inputs per layer, per channel (simulation only) or reparameterized (default)',
    },
    'post-softmax': {
      type: 'string',
      value: POST_SOFTMAX_MODES.join('|'),
      help: 'repq-vit: post-Softmax quantizer (default reparam: log-sqrt2 in its bit-shift log2 form)',
    },
    'round-zero-point': {
      type: 'boolean',
      help: 'repq-vit: round the reparameterized zero-point (exact and integer; default: unrounded, as the official code)',
    },
    'no-split': { type: 'boolean', help: 'q-diffusion: no shortcut splitting (the paper ablation)' },
    'weight-init': {
      type: 'string',
      value: 'mse|max',
      help: 'q-diffusion: per-channel weight ranges by MSE search (default) or min-max (default with --recon)',
    },
    'act-init': {
      type: 'string',
      value: 'max|mse',
      help: 'q-diffusion: activation ranges by min-max over all batches (default) or MSE search on the first',
    },
    'act-asym': { type: 'boolean', help: 'q-diffusion: asymmetric activations (default: symmetric, as --a_sym)' },
    recon: { type: 'boolean', help: 'q-diffusion: BRECQ + AdaRound weight reconstruction over every block and layer' },
    'no-recon': { type: 'boolean', help: 'q-diffusion: no weight reconstruction (default: nearest rounding)' },
    'recon-iters': {
      type: 'string',
      value: 'N',
      help: 'q-diffusion: AdaRound iterations per unit (default 1000; the reference runs 20000); implies --recon',
    },
    'recon-batch': {
      type: 'string',
      value: 'B',
      help: 'q-diffusion: reconstruction minibatch (default 32); implies --recon',
    },
    'recon-act-iters': {
      type: 'string',
      value: 'N',
      help: 'q-diffusion: step-size learning iterations per unit (default 0: off; reference 5000); implies --recon',
    },
    out: { type: 'string', value: 'd/x.onnx', help: 'output model path (also writes d/x.qdq.onnx, d/x.quant.json)' },
    ...calibOptions,
    ...diffusionCalibOptions,
    ...modelInfoOptions,
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

function outputPaths(out: string): { model: string; qdq: string; sidecar: string } {
  if (!out.endsWith('.onnx')) throw usageError(`--out must end in .onnx, got ${out}`);
  const stem = out.slice(0, -'.onnx'.length);
  return { model: out, qdq: `${stem}.qdq.onnx`, sidecar: `${stem}.quant.json` };
}

function bitsFlag(p: Parsed, name: string): number {
  const b = int(p, name) ?? 8;
  if (b !== 32 && (b < 2 || b > 16)) throw usageError(`--${name} must be 2-16 or 32, got ${b}`);
  return b;
}

const REPQ_FLAGS = ['post-ln', 'post-softmax', 'round-zero-point'];
const QDIFF_FLAGS = [
  'no-split',
  'weight-init',
  'act-init',
  'act-asym',
  'recon',
  'no-recon',
  'recon-iters',
  'recon-batch',
  'recon-act-iters',
];

/** The repq-vit and q-diffusion switches as method options; they are an error with any other method. */
function methodOptions(p: Parsed, method: string): Record<string, string | boolean> | undefined {
  const given = (flags: string[]) => flags.filter((k) => p.values[k] !== undefined && p.values[k] !== false);
  const foreign = [
    ...(method === 'repq-vit' ? [] : given(REPQ_FLAGS).map((f) => [f, 'repq-vit'])),
    ...(method === 'q-diffusion' ? [] : given(QDIFF_FLAGS).map((f) => [f, 'q-diffusion'])),
  ];
  if (foreign.length > 0) throw usageError(`--${foreign[0]![0]} applies to --method ${foreign[0]![1]} only`);
  if (method === 'q-diffusion') {
    const o: Record<string, string | boolean> = { split: !flag(p, 'no-split'), actSymmetric: !flag(p, 'act-asym') };
    const w = str(p, 'weight-init');
    const a = str(p, 'act-init');
    if (w !== undefined) o.weightInit = w;
    if (a !== undefined) o.actInit = a;
    if (flag(p, 'recon') && flag(p, 'no-recon')) throw usageError('--recon and --no-recon contradict each other');
    const iters = int(p, 'recon-iters', { min: 1 });
    const batch = int(p, 'recon-batch', { min: 1 });
    if (iters !== undefined) o.reconIters = String(iters);
    if (batch !== undefined) o.reconBatch = String(batch);
    const actIters = int(p, 'recon-act-iters', { min: 0 });
    if (actIters !== undefined) o.reconActIters = String(actIters);
    const given = Object.entries({ 'recon-iters': iters, 'recon-batch': batch, 'recon-act-iters': actIters })
      .filter(([, v]) => v !== undefined)
      .map(([k]) => `--${k}`);
    if (flag(p, 'no-recon') && given.length > 0)
      throw usageError(`--no-recon contradicts ${given.join(', ')}`, 'drop --no-recon, or the --recon-* settings');
    if (flag(p, 'recon') || flag(p, 'no-recon')) o.recon = flag(p, 'recon');
    return o;
  }
  if (method !== 'repq-vit') return undefined;
  const modes = checkModes(str(p, 'post-ln') ?? 'reparam', str(p, 'post-softmax') ?? 'reparam');
  return { postLn: modes.postLn, postSoftmax: modes.postSoftmax, roundZeroPoint: flag(p, 'round-zero-point') };
}

/** The sidecar's calibration record: what was fed, and for a built set how it was built (no timings). */
function calibrationRecord(calib: CalibData) {
  const base = { data: calib.dataArg, split: calib.split, n: calib.n, seed: calib.seed };
  if (calib.generated === undefined) return base;
  const { seconds: _s, ...generated } = calib.generated;
  return { ...base, batch: calib.batch, timestepAware: generated };
}

export async function runQuantize(p: Parsed): Promise<void> {
  const started = performance.now();
  const json = flag(p, 'json');
  const out = str(p, 'out');
  if (out === undefined) throw usageError('quantize needs --out d/x.onnx');
  const paths = outputPaths(out);
  const method = str(p, 'method') ?? 'minmax';
  const run = getMethod(method);
  const wBits = bitsFlag(p, 'w-bits');
  const aBits = bitsFlag(p, 'a-bits');
  const recipeFile = str(p, 'recipe');
  // Validate the recipe file before the (slow) model load and calibration.
  if (recipeFile !== undefined) loadRecipeFile(recipeFile, defaultRecipe(wBits, aBits));
  const options = methodOptions(p, method);
  const loaded = loadModel(p.positionals[0]!, flagInfo(p));
  const calib = await openCalibData(p, loaded, json);
  const g = calib.generated;
  if (g !== undefined && !json)
    print(
      `built      a time step-aware calibration set in ${g.seconds.toFixed(2)} s: ${g.keptSteps.length} steps x ${g.perStep} = ${g.built} samples (${g.sampler.toUpperCase()} ${g.steps} ${g.skip} steps, eta ${g.eta}, ${g.select}; t = ${g.timesteps.join(', ')})`,
    );
  const result = await run(loaded.model, calib.feeds, {
    ...runtimeSettings(p),
    wBits,
    aBits,
    ...(options === undefined ? {} : { options }),
    ...(recipeFile === undefined ? {} : { adjustRecipe: (r: Recipe) => loadRecipeFile(recipeFile, r) }),
    onProgress: progress('calibrate', json),
    totalBatches: Math.ceil(calib.n / calib.batch),
  });
  const recipe = result.plan.recipe;
  const qdqSkipped = result.qdqReport.qdq === 0 ? 'no quantizer has a QuantizeLinear form' : null;
  mkdirSync(dirname(paths.model), { recursive: true });
  for (const m of [result.simulated, result.qdq]) writeModelInfo(m, loaded.info);
  writeModel(result.simulated, paths.model);
  if (qdqSkipped === null) writeModel(result.qdq, paths.qdq);
  const sidecar = buildSidecar(
    {
      method,
      wBits,
      aBits,
      recipe,
      source: { model: loaded.path, sha256: createHash('sha256').update(readFileSync(loaded.path)).digest('hex') },
      calibration: calibrationRecord(calib),
      plan: result.plan,
      qdq: result.qdqReport,
      qdqSkipped,
      ...(result.extra === undefined ? {} : { extra: result.extra }),
    },
    withVersions({}),
  );
  writeFileAtomic(paths.sidecar, JSON.stringify(sidecar, null, 1) + '\n');
  const totalSeconds = (performance.now() - started) / 1000;
  if (json) {
    printJson({
      method,
      wBits,
      aBits,
      outputs: { model: paths.model, qdq: qdqSkipped === null ? paths.qdq : null, sidecar: paths.sidecar },
      quantizers: result.plan.targets.length,
      calibration: { ...calibrationRecord(calib), batch: calib.batch, batches: result.calibBatches },
      ...(g === undefined ? {} : { calibSetSeconds: g.seconds }),
      qdqSkipped,
      qdqEmulated: result.qdqReport.emulated.length,
      calibSeconds: result.calibSeconds,
      totalSeconds,
      // The method's record with its timings (the sidecar keeps the same record without them).
      ...(result.extra === undefined ? {} : { extra: result.extra }),
    });
    return;
  }
  print(`quantized  ${loaded.path} with ${method}, W${wBits}A${aBits}, ${result.plan.targets.length} quantizers`);
  const summary = methodSummary(method);
  if (summary !== undefined) print(`method     ${summary}`);
  print(
    `calibrated on ${calib.n} items of ${calib.dataset.name} (seed ${calib.seed}, batches of ${calib.batch}) in ${result.calibSeconds.toFixed(2)} s`,
  );
  print(`wrote      ${paths.model} (simulation)`);
  if (qdqSkipped === null)
    print(
      `wrote      ${paths.qdq} (QDQ; ${result.qdqReport.qdq} quantizers as QuantizeLinear/DequantizeLinear, ${result.qdqReport.emulated.length} emulated)`,
    );
  else print(`skipped    QDQ export: ${qdqSkipped}`);
  print(`wrote      ${paths.sidecar}`);
}
