// ImageFolder: one sub-folder per class holding JPEG/PNG files (torchvision's ImageFolder layout, also ImageNet's
// sorted validation set), optionally under train/ and test/ (or val/) split folders. Classes and files are
// sorted by code point, as Python's sorted() does, so label indices match a model trained with torchvision.
// Only file names are read when the dataset opens; images are decoded per batch, in parallel, with sharp.

import { readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { dataError, describeError, ioError } from '../errors.js';
import { imageBatch } from './image-batch.js';
import { isGreyImage } from './image-header.js';
import { gatherLabels, makeDataset } from './make-dataset.js';
import { defaultPreprocess, validatePreprocess, type Preprocess, type RawImage } from './preprocess.js';
import { readBytesAsync } from './read-file.js';
import { pickSplit, rejectSplit, type Split, type SplitOptions } from './split.js';
import { IMAGE_INPUT, type Dataset } from './types.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);
// Folder names that mean "split" rather than "class" when they are the only sub-folders.
const SPLIT_DIRS: Record<string, Split> = { train: 'train', test: 'test', val: 'test' };

export function isImageFile(name: string): boolean {
  // Dot files are skipped: macOS leaves ._name.jpg resource forks beside real images.
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw ioError(`cannot list ${dir}: ${describeError(e)}`);
  }
}

// Symlinked folders count as folders (torchvision follows links too).
function isDir(dir: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(join(dir, e.name)).isDirectory();
  } catch {
    return false;
  }
}

function subdirs(dir: string): string[] {
  return listDir(dir)
    .filter((e) => !e.name.startsWith('.') && isDir(dir, e))
    .map((e) => e.name)
    .sort(byCodePoint);
}

/** Image files under `dir`, recursively, in sorted order (torchvision walks class folders recursively too). */
function imagesUnder(dir: string, out: string[] = []): string[] {
  const entries = listDir(dir).sort((a, b) => byCodePoint(a.name, b.name));
  for (const e of entries) if (!isDir(dir, e) && isImageFile(e.name)) out.push(join(dir, e.name));
  for (const e of entries) if (!e.name.startsWith('.') && isDir(dir, e)) imagesUnder(join(dir, e.name), out);
  return out;
}

function hasImagesDirectly(dir: string): boolean {
  return listDir(dir).some((e) => !isDir(dir, e) && isImageFile(e.name));
}

/** Whether `dir` holds class folders (some with images), looking one level down only, so detection is cheap. */
function looksLikeClassRoot(dir: string): boolean {
  return subdirs(dir).some((c) => hasImagesDirectly(join(dir, c)));
}

/** The split folders of `dir` when all of its sub-folders are train/test/val class roots; else undefined. */
function splitFolders(dir: string): Partial<Record<Split, string>> | undefined {
  const subs = subdirs(dir);
  if (subs.length === 0 || !subs.every((s) => s in SPLIT_DIRS)) return undefined;
  const parts: Partial<Record<Split, string>> = {};
  // test/ wins over val/ when both exist; val/ stands in for test (ImageNet has no labelled test set).
  for (const s of ['val', 'test', 'train']) {
    if (subs.includes(s) && looksLikeClassRoot(join(dir, s))) parts[SPLIT_DIRS[s]!] = join(dir, s);
  }
  return Object.keys(parts).length > 0 ? parts : undefined;
}

/** 'split' for train/test folders of class folders, 'classes' for class folders, else undefined. */
export function detectImageFolder(dir: string): 'split' | 'classes' | undefined {
  if (splitFolders(dir) !== undefined) return 'split';
  return looksLikeClassRoot(dir) ? 'classes' : undefined;
}

export interface ImageFolderIndex {
  classes: string[];
  files: string[];
  labels: Int32Array;
}

/**
 * Every image of a class root with its label. With `labelNames` (the model's labels), a folder's label is its
 * position in that list, so a model's label order need not be the alphabetical one.
 */
export function indexImageFolder(root: string, labelNames?: readonly string[]): ImageFolderIndex {
  const folders = subdirs(root);
  const files: string[] = [];
  const labels: number[] = [];
  for (const [k, cls] of folders.entries()) {
    const label = labelNames === undefined ? k : labelNames.indexOf(cls);
    if (label < 0)
      throw dataError(
        `class folder '${cls}' in ${root} is not one of the model's labels`,
        `labels are: ${labelNames!.slice(0, 12).join(', ')}${labelNames!.length > 12 ? ', ...' : ''}`,
      );
    const imgs = imagesUnder(join(root, cls));
    if (imgs.length === 0) throw dataError(`class folder ${join(root, cls)} has no JPEG/PNG images`);
    for (const f of imgs) {
      files.push(f);
      labels.push(label);
    }
  }
  if (files.length === 0) throw dataError(`${root} holds no images`, 'expected class sub-folders of JPEG/PNG files');
  return { classes: labelNames !== undefined ? [...labelNames] : folders, files, labels: Int32Array.from(labels) };
}

/** Decode a JPEG/PNG file to 8-bit grey (for grey files) or RGB pixels; alpha is dropped. */
export async function decodeImage(path: string): Promise<RawImage> {
  const bytes = await readBytesAsync(path);
  try {
    // sharp outputs sRGB unless told otherwise, so ask for grey explicitly when the file is grey: a 1-channel
    // model then sees the stored values, not a luma of three equal channels.
    const grey = isGreyImage(bytes) ?? false;
    // failOn 'error': refuse truncated or broken data, but accept the benign libjpeg warnings camera files raise.
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .removeAlpha()
      .toColourspace(grey ? 'b-w' : 'srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) throw new Error(`${info.channels} channels after conversion`);
    return { data, width: info.width, height: info.height, channels: info.channels, layout: 'hwc' };
  } catch (e) {
    throw dataError(`cannot decode image ${path}: ${describeError(e)}`, 'the file is damaged or not a JPEG/PNG image');
  }
}

export interface ImageFolderOptions extends SplitOptions {
  preprocess?: Preprocess;
  labels?: string[];
}

export function openImageFolder(dir: string, opts: ImageFolderOptions = {}): Dataset {
  const p = opts.preprocess ?? defaultPreprocess(3);
  validatePreprocess(p);
  const parts = splitFolders(dir);
  let root = dir;
  let name = basename(dir);
  if (parts !== undefined) {
    const [r, split] = pickSplit(parts, opts, dir);
    root = r;
    name = `${name} (${split})`;
  } else rejectSplit(opts, dir);
  const index = indexImageFolder(root, opts.labels);
  return makeDataset({
    name,
    size: index.files.length,
    classes: index.classes,
    labels: index.labels,
    async load(indices) {
      const paths = indices.map((i) => index.files[i]!);
      const imgs = await Promise.all(paths.map(decodeImage));
      const image = imageBatch(imgs, p, (k) => paths[k]!);
      return { inputs: new Map([[IMAGE_INPUT, image]]), labels: gatherLabels(index.labels, indices), indices };
    },
  });
}
