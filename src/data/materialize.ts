// Holding a preprocessed dataset in memory, for sweeps that evaluate many models on the same images: decoding
// CIFAR-10 JPEGs costs more than running a small ViT on them, so a table of ten runs decodes once.

import { dataError } from '../errors.js';
import type { HostData, HostTensor } from '../util/host-tensor.js';
import { LABELS_ARRAY, tensorDataset } from './tensor-dataset.js';
import type { Dataset } from './types.js';

/** Read every item of `dataset` (or `indices` of it) once; refuses past `maxBytes` (default 2 GiB). */
export async function materialize(
  dataset: Dataset,
  opts: { indices?: number[]; batch?: number; maxBytes?: number } = {},
): Promise<Dataset> {
  const parts = new Map<string, HostTensor[]>();
  const labels: Int32Array[] = [];
  let bytes = 0;
  const maxBytes = opts.maxBytes ?? 2 * 1024 ** 3;
  for await (const b of dataset.batches(
    opts.batch ?? 256,
    opts.indices === undefined ? {} : { indices: opts.indices },
  )) {
    for (const [k, t] of b.inputs) {
      bytes += t.data.byteLength;
      const list = parts.get(k) ?? [];
      list.push(t);
      parts.set(k, list);
    }
    if (b.labels !== undefined) labels.push(b.labels);
    if (bytes > maxBytes) throw dataError(`${dataset.name} needs more than ${maxBytes} bytes in memory`);
  }
  const arrays = new Map<string, HostTensor>();
  for (const [k, list] of parts) {
    const n = list.reduce((a, t) => a + t.data.length, 0);
    const Ctor = list[0]!.data.constructor as new (length: number) => HostData;
    const data = new Ctor(n);
    let off = 0;
    for (const t of list) {
      (data as Float32Array).set(t.data as Float32Array, off);
      off += t.data.length;
    }
    const items = list.reduce((a, t) => a + t.dims[0]!, 0);
    arrays.set(k, { dtype: list[0]!.dtype, dims: [items, ...list[0]!.dims.slice(1)], data });
  }
  if (labels.length > 0) {
    const all = new Int32Array(labels.reduce((a, l) => a + l.length, 0));
    let off = 0;
    for (const l of labels) {
      all.set(l, off);
      off += l.length;
    }
    arrays.set(LABELS_ARRAY, { dtype: 'int32', dims: [all.length], data: all });
  }
  const ds = tensorDataset(arrays, dataset.name, dataset.classes === undefined ? {} : { labels: dataset.classes });
  return { ...ds, name: dataset.name };
}
