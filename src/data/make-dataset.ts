// Turns "load these indices" into the Dataset's batch iterator, so every format validates batch sizes, limits and
// index lists the same way and only one batch is ever held in memory.

import { usageError } from '../errors.js';
import type { Batch, BatchOptions, Dataset } from './types.js';

export interface DatasetSource {
  name: string;
  size: number;
  classes?: string[];
  labels?: Int32Array;
  /** Load the items at `indices` (already validated) as one batch. */
  load(indices: number[]): Promise<Batch> | Batch;
}

/** The dataset indices a `batches()` call visits, in order; throws a usage error for bad options. */
export function resolveOrder(size: number, opts: BatchOptions = {}): number[] {
  let order: number[];
  if (opts.indices !== undefined) {
    for (const [k, i] of opts.indices.entries()) {
      if (!Number.isInteger(i) || i < 0 || i >= size)
        throw usageError(`index ${i} (position ${k}) is outside the dataset of ${size} items`);
    }
    order = opts.indices;
  } else {
    order = Array.from({ length: size }, (_, i) => i);
  }
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1)
      throw usageError(`--limit must be a positive integer, got ${opts.limit}`);
    // A limit larger than the data means "all of it": eval --limit is an upper bound, not a demand.
    if (opts.limit < order.length) order = order.slice(0, opts.limit);
  }
  return order;
}

export function makeDataset(src: DatasetSource): Dataset {
  const ds: Dataset = {
    name: src.name,
    size: src.size,
    async *batches(batchSize: number, opts?: BatchOptions): AsyncIterable<Batch> {
      if (!Number.isInteger(batchSize) || batchSize < 1)
        throw usageError(`batch size must be a positive integer, got ${batchSize}`);
      const order = resolveOrder(src.size, opts);
      for (let start = 0; start < order.length; start += batchSize) {
        yield await src.load(order.slice(start, start + batchSize));
      }
    },
  };
  if (src.classes !== undefined) ds.classes = src.classes;
  if (src.labels !== undefined) ds.labels = src.labels;
  return ds;
}

/** Labels of `indices` gathered from a full label array. */
export function gatherLabels(all: ArrayLike<number>, indices: readonly number[]): Int32Array {
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = all[indices[k]!]!;
  return out;
}
