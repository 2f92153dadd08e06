// Classification accuracy (top-1, top-5) of a model over a dataset, with throughput.

import type { Model } from '../onnx/ir.js';
import type { Dataset } from '../data/types.js';
import { Session, bindFeeds, type SessionOptions } from '../runtime/index.js';
import { dataError, modelError } from '../errors.js';
import { prefetch } from '../util/prefetch.js';
import { topkHits } from './topk.js';
import { spreadIndices } from './subset.js';

export interface ClassificationResult {
  task: 'classification';
  n: number;
  top1: number;
  top5: number;
  imagesPerSec: number;
}

export interface EvalOptions extends SessionOptions {
  batch?: number;
  limit?: number;
  /** output holding the logits (default: `logits` when present, else the first output) */
  output?: string;
  onProgress?: (done: number, total: number) => void;
}

export function logitsOutput(model: Model, requested?: string): string {
  const names = model.graph.outputs.map((o) => o.name);
  const name = requested ?? (names.includes('logits') ? 'logits' : names[0]);
  if (name === undefined || !names.includes(name))
    throw modelError(`model has no output ${requested ?? '(none at all)'}`, `outputs: ${names.join(', ')}`);
  return name;
}

export async function evaluateClassification(
  model: Model,
  dataset: Dataset,
  opts: EvalOptions = {},
): Promise<ClassificationResult> {
  const output = logitsOutput(model, opts.output);
  const total = Math.min(dataset.size, opts.limit ?? Infinity);
  if (total === 0) throw dataError(`dataset ${dataset.name} is empty`);
  const session = await Session.create(model, opts);
  let n = 0;
  let top1 = 0;
  let top5 = 0;
  let seconds = 0;
  try {
    const indices = spreadIndices(dataset.size, opts.limit);
    const batches = dataset.batches(opts.batch ?? 64, indices === undefined ? {} : { indices });
    for await (const batch of prefetch(batches)) {
      if (batch.labels === undefined) throw dataError(`dataset ${dataset.name} has no labels to evaluate against`);
      const feeds = bindFeeds(session.inputs, batch.inputs);
      const start = performance.now();
      const out = await session.run(feeds, [output]);
      seconds += (performance.now() - start) / 1000;
      const logits = out[output]!;
      const classes = logits.dims[logits.dims.length - 1] ?? 0;
      if (logits.dtype !== 'float32' || logits.dims.length !== 2)
        throw modelError(
          `output ${output} is ${logits.dtype}[${logits.dims.join(', ')}], not float32 [batch, classes] logits`,
        );
      const maxLabel = batch.labels.reduce((a, b) => Math.max(a, b), 0);
      if (maxLabel >= classes)
        throw dataError(`dataset label ${maxLabel} is out of range for a model with ${classes} classes`);
      top1 += topkHits(logits.data as Float32Array, classes, batch.labels, 1);
      top5 += topkHits(logits.data as Float32Array, classes, batch.labels, Math.min(5, classes));
      n += batch.labels.length;
      opts.onProgress?.(n, total);
    }
  } finally {
    await session.release();
  }
  return { task: 'classification', n, top1: top1 / n, top5: top5 / n, imagesPerSec: seconds > 0 ? n / seconds : 0 };
}
