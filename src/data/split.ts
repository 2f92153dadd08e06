// Choosing between a dataset's train and test parts, the same way for every layout. An explicit --split is a
// demand (an error where that part does not exist); the default is only a preference, so that calibration
// (default train) still works on a folder that holds only test images.

import { dataError } from '../errors.js';

export type Split = 'train' | 'test';

export interface SplitOptions {
  /** Asked for explicitly (`--split`): must exist. */
  split?: Split;
  /** The command's default (test for eval, train for calibration; test when unset): used where it exists. */
  defaultSplit?: Split;
}

export function pickSplit<T>(parts: Partial<Record<Split, T>>, opts: SplitOptions, where: string): [T, Split] {
  const preferred = opts.defaultSplit ?? 'test';
  const order: Split[] = opts.split !== undefined ? [opts.split] : [preferred, preferred === 'test' ? 'train' : 'test'];
  for (const s of order) {
    const part = parts[s];
    if (part !== undefined) return [part, s];
  }
  const have = (Object.keys(parts) as Split[]).filter((s) => parts[s] !== undefined);
  throw dataError(
    `${where} has no ${opts.split ?? 'train or test'} split${have.length > 0 ? ` (it has: ${have.join(', ')})` : ''}`,
    have.length > 0 ? `use --split ${have[0]}` : undefined,
  );
}

/** For layouts without parts (a plain ImageFolder, an .npy/.npz file): an explicit --split cannot be honoured. */
export function rejectSplit(opts: SplitOptions, where: string): void {
  if (opts.split !== undefined)
    throw dataError(`${where} has no train/test split, so --split ${opts.split} does not apply`, 'drop --split');
}

/** Class names must cover every label the data holds; checked once when a dataset opens. */
export function checkLabelRange(labels: ArrayLike<number>, classes: readonly string[], where: string): void {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= classes.length)
      throw dataError(
        `${where}: label ${l} of item ${i} is outside the ${classes.length} class names given`,
        'check --labels against the dataset',
      );
  }
}
