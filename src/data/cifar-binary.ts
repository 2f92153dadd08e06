// CIFAR-10 binary batches (the "binary version" of the release): data_batch_1..5.bin (train) and test_batch.bin
// (test), each a run of 3073-byte records: one label byte, then 32x32 pixels as 1024 R, 1024 G, 1024 B bytes.
// Files are loaded whole (30 MB each) and kept as they are; a batch decodes only its own records.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dataError } from '../errors.js';
import { imageBatch } from './image-batch.js';
import { makeDataset } from './make-dataset.js';
import { defaultPreprocess, validatePreprocess, type Preprocess, type RawImage } from './preprocess.js';
import { readBytes } from './read-file.js';
import { checkLabelRange, pickSplit, type Split, type SplitOptions } from './split.js';
import { IMAGE_INPUT, type Dataset } from './types.js';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;
const RECORD = 1 + PIXELS;
const BATCH_NAME = /^(data_batch_(\d+)|test_batch)\.bin$/;
const SUBDIR = 'cifar-10-batches-bin';

export interface CifarLayout {
  /** The folder that holds the .bin files (`dir` itself or its cifar-10-batches-bin/). */
  dir: string;
  train: string[];
  test: string[];
}

/** The CIFAR-10 binary batches in `dir` (or its cifar-10-batches-bin/ sub-folder); undefined when there are none. */
export function findCifarBatches(dir: string): CifarLayout | undefined {
  for (const d of [dir, join(dir, SUBDIR)]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    const train: [number, string][] = [];
    const test: string[] = [];
    for (const name of readdirSync(d)) {
      const m = BATCH_NAME.exec(name);
      if (m === null) continue;
      if (m[2] !== undefined) train.push([Number(m[2]), join(d, name)]);
      else test.push(join(d, name));
    }
    if (train.length + test.length > 0)
      return { dir: d, train: train.sort((a, b) => a[0] - b[0]).map(([, f]) => f), test };
  }
  return undefined;
}

/** Class names from the release's batches.meta.txt when present (one per line), else the standard ten. */
function classNames(dir: string): string[] {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8')
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return names.length > 0 ? names : CIFAR10_CLASSES;
}

export interface CifarOptions extends SplitOptions {
  preprocess?: Preprocess;
  labels?: string[];
}

export function openCifarFolder(dir: string, opts: CifarOptions = {}): Dataset {
  const layout = findCifarBatches(dir);
  if (layout === undefined) throw dataError(`${dir} holds no CIFAR-10 .bin batches`);
  const parts: Partial<Record<Split, string[]>> = {};
  if (layout.train.length > 0) parts.train = layout.train;
  if (layout.test.length > 0) parts.test = layout.test;
  const [files, split] = pickSplit(parts, opts, dir);
  return openCifarFiles(files, {
    ...opts,
    labels: opts.labels ?? classNames(layout.dir),
    name: `${basename(dir)} (${split})`,
  });
}

/** A dataset over the records of `files`, in file order. */
export function openCifarFiles(files: string[], opts: CifarOptions & { name?: string } = {}): Dataset {
  const p = opts.preprocess ?? defaultPreprocess(3);
  validatePreprocess(p);
  const classes = opts.labels ?? CIFAR10_CLASSES;
  const chunks: Uint8Array[] = [];
  const starts: number[] = [];
  let total = 0;
  for (const f of files) {
    const bytes = readBytes(f);
    if (bytes.length === 0 || bytes.length % RECORD !== 0)
      throw dataError(
        `${f} is not a CIFAR-10 binary batch: ${bytes.length} bytes is not a whole number of ${RECORD}-byte records`,
        'CIFAR-100 binary files (2 label bytes per record) are not supported',
      );
    chunks.push(bytes);
    starts.push(total);
    total += bytes.length / RECORD;
  }
  if (total === 0) throw dataError(`no CIFAR-10 records in ${files.join(', ') || 'an empty file list'}`);
  const labels = new Int32Array(total);
  for (const [c, bytes] of chunks.entries()) {
    const n = bytes.length / RECORD;
    const fileLabels = new Int32Array(n);
    for (let r = 0; r < n; r++) fileLabels[r] = bytes[r * RECORD]!;
    checkLabelRange(fileLabels, classes, files[c]!);
    labels.set(fileLabels, starts[c]);
  }
  const locate = (i: number): [Uint8Array, number, string] => {
    let c = starts.length - 1;
    while (starts[c]! > i) c--;
    return [chunks[c]!, i - starts[c]!, files[c]!];
  };
  return makeDataset({
    name: opts.name ?? files.map((f) => basename(f)).join('+'),
    size: total,
    classes,
    labels,
    load(indices) {
      const imgs: RawImage[] = [];
      const out = new Int32Array(indices.length);
      for (const [k, i] of indices.entries()) {
        const [bytes, r] = locate(i);
        imgs.push({
          data: bytes.subarray(r * RECORD + 1, (r + 1) * RECORD),
          width: SIDE,
          height: SIDE,
          channels: 3,
          layout: 'chw',
        });
        out[k] = labels[i]!;
      }
      const name = (k: number) => {
        const [, r, f] = locate(indices[k]!);
        return `${f} record ${r}`;
      };
      return { inputs: new Map([[IMAGE_INPUT, imageBatch(imgs, p, name)]]), labels: out, indices };
    },
  });
}
