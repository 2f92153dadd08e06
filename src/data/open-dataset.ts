// One entry point for `--data <path>`: looks at what the path holds and opens the matching reader.
// Detection is by file names and folder structure only (cheap, no decoding); the reader then validates content.

import { readdirSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { dataError, describeError, ioError } from '../errors.js';
import { openCifarFiles, openCifarFolder, findCifarBatches } from './cifar-binary.js';
import { findIdxFiles, openIdxFiles, openIdxFolder } from './idx.js';
import { detectImageFolder, openImageFolder } from './image-folder.js';
import type { Preprocess } from './preprocess.js';
import { rejectSplit, type SplitOptions } from './split.js';
import { openNpyDataset, openNpzDataset } from './tensor-dataset.js';
import type { Dataset } from './types.js';

export interface OpenDatasetOptions extends SplitOptions {
  /** How images become model input (ignored by NPY/NPZ data, which is fed as it is). */
  preprocess?: Preprocess;
  /** Class names in the model's label order (ImageFolder folders are matched to them by name). */
  labels?: string[];
}

const ARCHIVE = /\.(tar\.gz|tgz|tar|tar\.bz2|tbz2|tar\.xz|txz|zip|gz)$/i;
const LAYOUTS =
  'expected IDX files, CIFAR-10 .bin batches, an ImageFolder (class sub-folders of JPEG/PNG) or .npy/.npz';

function unknownLayout(path: string, hint?: string) {
  return dataError(`cannot tell the layout of ${path}: ${LAYOUTS}`, hint);
}

function archiveError(path: string) {
  const unpack = /\.zip$/i.test(path)
    ? `unzip ${path} -d <folder>`
    : /\.(tar(\.\w+)?|tgz|tbz2|txz)$/i.test(path)
      ? `mkdir -p <folder> && tar xf ${path} -C <folder>`
      : `gunzip -k ${path}`;
  return dataError(`${path} is an archive; quantlens reads unpacked datasets`, `unpack it first (${unpack})`);
}

export async function openDataset(path: string, opts: OpenDatasetOptions = {}): Promise<Dataset> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw ioError(`no such file or folder: ${path}`, 'check the --data path');
    throw ioError(`cannot read ${path}: ${describeError(e)}`);
  }
  return isDir ? openFolder(path, opts) : openFile(path, opts);
}

function openFolder(dir: string, opts: OpenDatasetOptions): Dataset {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw ioError(`cannot list ${dir}: ${describeError(e)}`);
  }
  if (names.length === 0) throw dataError(`${dir} is empty`, `expected a dataset: ${LAYOUTS}`);
  if (Object.keys(findIdxFiles(dir, names)).length > 0) return openIdxFolder(dir, opts);
  if (findCifarBatches(dir) !== undefined) return openCifarFolder(dir, opts);
  if (detectImageFolder(dir) !== undefined) return openImageFolder(dir, opts);
  const archive = names.find((n) => ARCHIVE.test(n));
  throw unknownLayout(
    dir,
    archive !== undefined ? `it holds ${archive}: unpack it and pass the unpacked folder` : undefined,
  );
}

function openFile(path: string, opts: OpenDatasetOptions): Dataset {
  const name = basename(path);
  const lower = name.toLowerCase();
  if (lower.endsWith('.npy') || lower.endsWith('.npz')) {
    rejectSplit(opts, path);
    const tensorOpts = opts.labels !== undefined ? { labels: opts.labels } : {};
    return lower.endsWith('.npy') ? openNpyDataset(path, tensorOpts) : openNpzDataset(path, tensorOpts);
  }
  // A single IDX images file: open it with its labels file when one sits beside it.
  const idx = findIdxFiles(dirname(path), [name]);
  const split = idx.test !== undefined ? 'test' : idx.train !== undefined ? 'train' : undefined;
  if (split !== undefined) {
    rejectSplit(opts, path);
    const labels = findIdxFiles(dirname(path))[split]?.labels;
    return openIdxFiles(labels !== undefined ? { images: path, labels } : { images: path }, opts);
  }
  if (lower.endsWith('.bin')) {
    rejectSplit(opts, path);
    return openCifarFiles([path], opts);
  }
  if (ARCHIVE.test(name)) throw archiveError(path);
  throw unknownLayout(path);
}
