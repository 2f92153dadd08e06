// IDX files (MNIST, Fashion-MNIST): a 4-byte magic (0, 0, type, ndim), ndim big-endian uint32 dimensions, then
// the data. Only uint8 data (type 0x08) is read: that is what every image/label set in this format uses.
// The whole file is loaded once (47 MB unpacked for the largest, the 60,000 training images); batches convert
// only their own items to float.

import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dataError } from '../errors.js';
import { maybeGunzip } from './gzip.js';
import { imageBatch } from './image-batch.js';
import { gatherLabels, makeDataset } from './make-dataset.js';
import { defaultPreprocess, validatePreprocess, type Preprocess, type RawImage } from './preprocess.js';
import { readBytes } from './read-file.js';
import { checkLabelRange, pickSplit, type Split, type SplitOptions } from './split.js';
import { IMAGE_INPUT, type Dataset } from './types.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** Parse IDX bytes (already gunzipped); `what` names the file in errors. */
export function parseIdx(bytes: Uint8Array, what: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw dataError(`${what} is not an IDX file (bad magic number)`);
  const type = bytes[2]!;
  const ndim = bytes[3]!;
  if (type !== 0x08) {
    const name = TYPE_NAMES[type];
    throw dataError(
      name !== undefined
        ? `${what} holds ${name} IDX data; only uint8 IDX files are supported`
        : `${what} is not an IDX file (unknown data type 0x${type.toString(16)})`,
    );
  }
  if (ndim === 0) throw dataError(`${what} is not an IDX file (zero dimensions)`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) throw dataError(`${what} is truncated (header ends early)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerLen;
  if (have < count)
    throw dataError(`${what} is truncated: dims [${dims.join(', ')}] need ${count} bytes, found ${have}`);
  if (have > count)
    throw dataError(`${what} has ${have - count} bytes after the data its dims [${dims.join(', ')}] describe`);
  return { dims, data: bytes.subarray(headerLen) };
}

/** Read an IDX file, gzipped or not. */
export function readIdx(path: string): IdxArray {
  return parseIdx(maybeGunzip(readBytes(path), path), path);
}

export interface IdxFiles {
  images: string;
  labels?: string;
}

// Both the dash form (train-images-idx3-ubyte, as published) and the dot form some mirrors use.
const IDX_NAME = /^(train|t10k)-(images|labels)[-.]idx([13])-ubyte(\.gz)?$/;

/** IDX image/label files in `dir` by split (t10k is the test split); empty when there are none. */
export function findIdxFiles(
  dir: string,
  names: readonly string[] = readdirSync(dir),
): Partial<Record<Split, IdxFiles>> {
  const found: Partial<Record<Split, { images?: string; labels?: string }>> = {};
  // Sorted so that the unpacked file (shorter name) wins over its .gz twin.
  for (const name of [...names].sort()) {
    const m = IDX_NAME.exec(name);
    if (m === null) continue;
    const split: Split = m[1] === 'train' ? 'train' : 'test';
    const kind = m[2] === 'images' ? 'images' : 'labels';
    const entry = (found[split] ??= {});
    entry[kind] ??= join(dir, name);
  }
  const out: Partial<Record<Split, IdxFiles>> = {};
  for (const split of ['train', 'test'] as const) {
    const e = found[split];
    if (e?.images !== undefined)
      out[split] = e.labels !== undefined ? { images: e.images, labels: e.labels } : { images: e.images };
  }
  return out;
}

export interface IdxOptions extends SplitOptions {
  preprocess?: Preprocess;
  labels?: string[];
}

/** A dataset over one split of an IDX folder. */
export function openIdxFolder(dir: string, opts: IdxOptions = {}): Dataset {
  const [files, split] = pickSplit(findIdxFiles(dir), opts, dir);
  return openIdxFiles(files, { ...opts, name: `${basename(dir)} (${split})` });
}

/** A dataset over an IDX images file ([N, H, W]) and its optional labels file ([N]). */
export function openIdxFiles(files: IdxFiles, opts: IdxOptions & { name?: string } = {}): Dataset {
  const p = opts.preprocess ?? defaultPreprocess(1);
  validatePreprocess(p);
  const images = readIdx(files.images);
  if (images.dims.length !== 3)
    throw dataError(`${files.images} has dims [${images.dims.join(', ')}]; IDX images must be [count, height, width]`);
  const [n, h, w] = images.dims as [number, number, number];
  if (n === 0) throw dataError(`${files.images} holds no images`);
  let labels: Uint8Array | undefined;
  if (files.labels !== undefined) {
    const l = readIdx(files.labels);
    if (l.dims.length !== 1) throw dataError(`${files.labels} has dims [${l.dims.join(', ')}]; IDX labels must be 1-D`);
    if (l.dims[0] !== n) throw dataError(`${files.labels} has ${l.dims[0]} labels but ${files.images} has ${n} images`);
    labels = l.data;
    if (opts.labels !== undefined) checkLabelRange(labels, opts.labels, files.labels);
  }
  const pixels = h * w;
  const name = (i: number) => `${files.images} item ${i}`;
  return makeDataset({
    name: opts.name ?? basename(files.images),
    size: n,
    ...(opts.labels !== undefined ? { classes: opts.labels } : {}),
    ...(labels !== undefined ? { labels: Int32Array.from(labels) } : {}),
    load(indices) {
      const imgs: RawImage[] = indices.map((i) => ({
        data: images.data.subarray(i * pixels, (i + 1) * pixels),
        width: w,
        height: h,
        channels: 1,
        layout: 'chw',
      }));
      const image = imageBatch(imgs, p, (k) => name(indices[k]!));
      const inputs = new Map([[IMAGE_INPUT, image]]);
      return labels !== undefined ? { inputs, labels: gatherLabels(labels, indices), indices } : { inputs, indices };
    },
  });
}
