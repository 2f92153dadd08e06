// --data and its companions: dataset words (fashion-mnist, cifar10) or a path, the split, and preprocessing.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../version.js';
import { warn } from './output.js';
import { openDataset } from '../data/index.js';
import { ensureCifar10 } from '../data/cifar10-cache.js';
import type { Dataset } from '../data/types.js';
import type { PreprocessInfo } from '../models/model-info.js';
import { usageError } from '../errors.js';
import type { OptionSpec, Parsed } from './args.js';
import { str } from './args.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** 200 test images per class, committed (tools/make_fmnist_subset.py). */
export const SHIPPED_FMNIST_TEST = join(fileURLToPath(packageRoot), 'data', 'fashion-mnist-test-2k');

export function dataOptions(defaultSplit: 'train' | 'test'): Record<string, OptionSpec> {
  return {
    split: {
      type: 'string',
      value: 'train|test',
      help: `which split where the data has both (default: ${defaultSplit})`,
    },
  };
}

/** A dataset word, or a path. `splitDone`: the path already is the split's own folder. */
async function resolveDataPath(arg: string, split: 'train' | 'test'): Promise<{ path: string; splitDone: boolean }> {
  if (existsSync(arg)) return { path: arg, splitDone: false };
  if (arg === 'fashion-mnist') {
    if (existsSync(FASHION_MNIST_DIR)) return { path: FASHION_MNIST_DIR, splitDone: false };
    // Without the Debian package, the shipped 2,000-image test subset still lets the default models run.
    if (split === 'test' && existsSync(SHIPPED_FMNIST_TEST)) {
      warn(`fashion-mnist is not installed; using the shipped 2,000-image test subset (${SHIPPED_FMNIST_TEST})`);
      return { path: SHIPPED_FMNIST_TEST, splitDone: true };
    }
    throw usageError(
      'fashion-mnist is not installed',
      'apt-get install dataset-fashion-mnist, or pass a folder of IDX files',
    );
  }
  if (arg === 'cifar10') return { path: await ensureCifar10(split), splitDone: true };
  return { path: arg, splitDone: false }; // openDataset names the missing path
}

export async function openDataArg(
  p: Parsed,
  arg: string,
  defaultSplit: 'train' | 'test',
  preprocess: PreprocessInfo,
  labels?: string[],
): Promise<Dataset> {
  const given = str(p, 'split');
  if (given !== undefined && given !== 'train' && given !== 'test')
    throw usageError(`--split must be train or test, got ${given}`);
  const split = (given ?? defaultSplit) as 'train' | 'test';
  const { path, splitDone } = await resolveDataPath(arg, split);
  // A split the user asked for must exist; the command's default applies only where the data has splits.
  const splitOpts = splitDone ? {} : given !== undefined ? { split } : { defaultSplit };
  return openDataset(path, { ...splitOpts, preprocess, ...(labels === undefined ? {} : { labels }) });
}
