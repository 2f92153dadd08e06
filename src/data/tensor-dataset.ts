// Datasets of plain tensors (NPY/NPZ), for models whose inputs are not images (diffusion latents, time steps,
// feature vectors). Every array's leading axis indexes the items; a batch slices that axis of each array, and
// each array is one model input under its own name. A 1-D integer array named `labels` is taken as the class
// labels instead of an input.

import { basename } from 'node:path';
import { dataError } from '../errors.js';
import { hostSize, type HostData, type HostTensor } from '../util/host-tensor.js';
import { checkFinite } from './finite.js';
import { makeDataset } from './make-dataset.js';
import { readNpy } from './npy.js';
import { readNpz } from './npz.js';
import { checkLabelRange } from './split.js';
import type { Batch, Dataset } from './types.js';

export const LABELS_ARRAY = 'labels';

function allocLike(data: HostData, n: number): HostData {
  const Ctor = data.constructor as new (length: number) => HostData;
  return new Ctor(n);
}

function toLabels(t: HostTensor, what: string): Int32Array {
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(t.data[i]!);
    if (v < 0 || v > 0x7fffffff) throw dataError(`${what}: label ${v} at index ${i} is not a class index`);
    out[i] = v;
  }
  return out;
}

export interface TensorDatasetOptions {
  /** Class names, when the arrays include `labels`. */
  labels?: string[];
}

/** A dataset over named arrays that share their leading length; `where` names the source in errors. */
export function tensorDataset(
  arrays: ReadonlyMap<string, HostTensor>,
  where: string,
  opts: TensorDatasetOptions = {},
): Dataset {
  if (arrays.size === 0) throw dataError(`${where} holds no arrays`);
  let size: number | undefined;
  let first = '';
  const inputs = new Map<string, HostTensor>();
  let labels: Int32Array | undefined;
  for (const [name, t] of arrays) {
    const what = `array '${name}' in ${where}`;
    if (t.dims.length === 0) throw dataError(`${what} is a scalar; every array needs a leading item axis`);
    const n = t.dims[0]!;
    if (size === undefined) [size, first] = [n, name];
    else if (n !== size)
      throw dataError(
        `arrays in ${where} differ in leading length: '${first}' has ${size} items, '${name}' has ${n}`,
        'every array must have one row per item along its first axis',
      );
    checkFinite(t, what);
    const integer = t.dtype !== 'float32' && t.dtype !== 'float64' && t.dtype !== 'bool';
    if (name === LABELS_ARRAY && t.dims.length === 1 && integer) labels = toLabels(t, what);
    else inputs.set(name, t);
  }
  if (size === 0) throw dataError(`${where} holds 0 items (its arrays have leading length 0)`);
  if (inputs.size === 0) throw dataError(`${where} holds only labels, no input arrays`);
  if (labels !== undefined && opts.labels !== undefined) checkLabelRange(labels, opts.labels, where);
  const lab = labels;
  return makeDataset({
    name: basename(where),
    size: size!,
    ...(opts.labels !== undefined ? { classes: opts.labels } : {}),
    ...(lab !== undefined ? { labels: lab } : {}),
    load(indices): Batch {
      const out = new Map<string, HostTensor>();
      for (const [name, t] of inputs) {
        const row = hostSize(t.dims.slice(1));
        const data = allocLike(t.data, indices.length * row);
        // Copy whole rows (one typed-array set per item), never element by element; source and target share an
        // element type, the casts only spare a switch over the typed-array kinds.
        for (const [k, i] of indices.entries())
          (data as Uint8Array).set((t.data as Uint8Array).subarray(i * row, (i + 1) * row), k * row);
        out.set(name, { dtype: t.dtype, dims: [indices.length, ...t.dims.slice(1)], data });
      }
      if (lab === undefined) return { inputs: out, indices };
      const l = new Int32Array(indices.length);
      for (const [k, i] of indices.entries()) l[k] = lab[i]!;
      return { inputs: out, labels: l, indices };
    },
  });
}

/** A dataset over one .npy file; its single input is named after the file (x.npy -> 'x'). */
export function openNpyDataset(path: string, opts: TensorDatasetOptions = {}): Dataset {
  const name = basename(path).replace(/\.npy$/i, '');
  return tensorDataset(new Map([[name, readNpy(path)]]), path, opts);
}

export function openNpzDataset(path: string, opts: TensorDatasetOptions = {}): Dataset {
  return tensorDataset(readNpz(path), path, opts);
}
