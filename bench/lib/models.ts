// Which model file each benchmark runs, and how the PyTorch side builds the same module with the same weights.
// Shipped models (models/NAME.onnx) are used when present; otherwise a random-weight export of the same
// configuration made by tools/make_scale_models.py into the cache (timing depends on the architecture only).
// --quick runs the committed fixtures, with the PyTorch side built from the fixture configuration.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantlensCacheDir } from '../../src/data/index.js';
import { readModel } from '../../src/onnx/io/index.js';
import type { Model } from '../../src/onnx/ir.js';
import { repoRoot, runPythonJson, torchVersion } from './python.js';

export const benchCacheDir = () => join(quantlensCacheDir(), 'bench');

export interface BenchModel {
  name: string;
  path: string;
  /** shipped: models/NAME.onnx (trained); random: a random-weight export of the same config; fixture: fixtures/ */
  source: 'shipped' | 'random' | 'fixture';
  arch: 'deit' | 'ddim-unet';
  /** arguments that make tools/bench_torch.py and tools/calib_torch.py build the same module */
  torchArgs: string[];
  /** where the PyTorch side's weights come from */
  torchWeights: string;
  params?: number;
  gflopsPerImage?: number;
  preprocess?: { size: number; pad: number; channels: number; mean: number[]; std: number[] };
}

// tools/make_fixtures.py's configurations (DEIT, UNET).
const FIXTURES: Record<string, { file: string; arch: BenchModel['arch']; kwargs: Record<string, unknown> }> = {
  'tiny-deit': {
    file: 'tiny-deit-op17.onnx',
    arch: 'deit',
    kwargs: { img_size: 16, patch_size: 4, in_chans: 3, num_classes: 10, embed_dim: 32, depth: 2, num_heads: 2 },
  },
  'tiny-unet': {
    file: 'tiny-unet-op17.onnx',
    arch: 'ddim-unet',
    kwargs: {
      img_size: 8,
      in_ch: 1,
      ch: 8,
      ch_mult: [1, 2],
      num_res_blocks: 1,
      attn_resolutions: [4],
      dropout: 0.0,
      groups: 8,
    },
  },
};

/** The shipped counterpart of a benchmark name (deit-cifar10 -> models/deit-cifar10.onnx). */
const shippedPath = (name: string) => join(repoRoot, 'models', `${name}.onnx`);
const trainCheckpoint = (name: string) => join(quantlensCacheDir(), 'ckpt', name, 'last.pt');

/** Make the random-weight exports that are missing (tools/make_scale_models.py skips those that exist). */
export async function ensureRandomModels(names: string[]): Promise<void> {
  const missing = names.filter((n) => !existsSync(join(benchCacheDir(), `${n}.json`)));
  if (missing.length === 0) return;
  if (torchVersion() === null)
    throw new Error(`making ${missing.join(', ')} needs PyTorch (tools/make_scale_models.py)`);
  await runPythonJson('make_scale_models.py', ['--models', missing.join(','), '--out', benchCacheDir()]).catch(
    (e: unknown) => {
      // The script prints progress lines, not JSON; success is the files being there.
      if (names.some((n) => !existsSync(join(benchCacheDir(), `${n}.json`)))) throw e;
    },
  );
}

export function fixtureModel(name: keyof typeof FIXTURES): BenchModel {
  const f = FIXTURES[name]!;
  return {
    name,
    path: join(repoRoot, 'fixtures', f.file),
    source: 'fixture',
    arch: f.arch,
    torchArgs: ['--arch', f.arch, '--kwargs', JSON.stringify(f.kwargs)],
    torchWeights: 'random (same architecture as the fixture)',
  };
}

/** A benchmark model by name: the shipped ONNX when present, else the cached random-weight export. */
export async function benchModel(name: string): Promise<BenchModel> {
  if (name in FIXTURES) return fixtureModel(name as keyof typeof FIXTURES);
  await ensureRandomModels([name]);
  const info = JSON.parse(readFileSync(join(benchCacheDir(), `${name}.json`), 'utf8')) as {
    arch: BenchModel['arch'];
    params: number;
    gflops_per_image: number;
    preprocess: BenchModel['preprocess'];
  };
  const shipped = shippedPath(name);
  const ckpt = trainCheckpoint(name);
  const base = {
    name,
    arch: info.arch,
    params: info.params,
    gflopsPerImage: info.gflops_per_image,
    ...(info.preprocess === undefined ? {} : { preprocess: info.preprocess }),
  };
  if (existsSync(shipped)) {
    // The trained weights for PyTorch too when the training checkpoint is at hand.
    const weights = existsSync(ckpt) ? ckpt : join(benchCacheDir(), `${name}.pt`);
    return {
      ...base,
      path: shipped,
      source: 'shipped',
      torchArgs: ['--model', name, '--dir', benchCacheDir(), '--weights', weights],
      torchWeights: weights,
    };
  }
  const pt = join(benchCacheDir(), `${name}.pt`);
  return {
    ...base,
    path: join(benchCacheDir(), `${name}.onnx`),
    source: 'random',
    torchArgs: ['--model', name, '--dir', benchCacheDir()],
    torchWeights: pt,
  };
}

export function loadBenchModel(m: BenchModel): Model {
  return readModel(m.path);
}

export function describeModel(m: BenchModel): Record<string, unknown> {
  return {
    name: m.name,
    file: m.path.startsWith(repoRoot) ? m.path.slice(repoRoot.length) : m.path.replace(quantlensCacheDir(), '~cache'),
    source: m.source,
    arch: m.arch,
    ...(m.params === undefined ? {} : { params: m.params }),
    ...(m.gflopsPerImage === undefined ? {} : { gflopsPerImageTorchCount: m.gflopsPerImage }),
    torchWeights: m.torchWeights.replace(quantlensCacheDir(), '~cache'),
  };
}
