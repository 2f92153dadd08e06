// The dataset contract between data/ and everything that feeds a model (runtime/, eval/, methods/).
// data/ owns decoding and preprocessing; it must not import runtime/, onnx/ or anything that knows about models.

import type { HostTensor } from '../util/host-tensor.js';

/** The input name image datasets use; the CLI maps it to the model's (single) image input. */
export const IMAGE_INPUT = 'image';

export interface Batch {
  /** Image datasets: `'image'` -> float32 [N, C, H, W], preprocessed. Tensor datasets: one entry per array. */
  inputs: Map<string, HostTensor>;
  /** Class index per item, where the dataset has labels. */
  labels?: Int32Array;
  /** Dataset indices of the items, in batch order. */
  indices: number[];
}

export interface BatchOptions {
  /** Take at most this many items (from `indices` when given, else from the start). */
  limit?: number;
  /** Visit exactly these dataset indices, in this order (e.g. a seeded calibration subset). */
  indices?: number[];
}

export interface Dataset {
  name: string;
  size: number;
  /** Class names in label order, where known. */
  classes?: string[];
  /**
   * Every item's label, when the dataset knows them without decoding (IDX, CIFAR, ImageFolder, NPZ `labels`).
   * Lets callers count classes or stratify without decoding images.
   */
  labels?: Int32Array;
  batches(batchSize: number, opts?: BatchOptions): AsyncIterable<Batch>;
}
