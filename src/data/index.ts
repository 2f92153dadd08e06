// Public API of data/: datasets as async iterables of preprocessed batches, the file formats behind them, and
// seeded calibration subsets. data/ imports only errors.ts and util/; nothing here knows about models or ORT.

export { IMAGE_INPUT, type Batch, type BatchOptions, type Dataset } from './types.js';
export { openDataset, type OpenDatasetOptions } from './open-dataset.js';
export { makeDataset, resolveOrder, type DatasetSource } from './make-dataset.js';
export type { Split, SplitOptions } from './split.js';
export {
  defaultPreprocess,
  outputDims,
  preprocessInto,
  validatePreprocess,
  type Preprocess,
  type RawImage,
} from './preprocess.js';
export { imageBatch } from './image-batch.js';
export { resizeBilinear, resampleTable } from './resize.js';
export { findIdxFiles, openIdxFiles, openIdxFolder, parseIdx, readIdx, type IdxArray, type IdxFiles } from './idx.js';
export { CIFAR10_CLASSES, findCifarBatches, openCifarFiles, openCifarFolder } from './cifar-binary.js';
export { decodeImage, detectImageFolder, indexImageFolder, isImageFile, openImageFolder } from './image-folder.js';
export { encodeNpy, parseNpy, readNpy, writeNpy } from './npy.js';
export { encodeNpz, parseNpz, readNpz, writeNpz, type NpzWriteOptions } from './npz.js';
export { LABELS_ARRAY, openNpyDataset, openNpzDataset, tensorDataset } from './tensor-dataset.js';
export { checkFinite, firstNonFinite } from './finite.js';
export { isGzip, maybeGunzip } from './gzip.js';
export { calibrationIndices, limitIndices, mulberry32 } from './calib.js';
export {
  cifar10Available,
  ensureCifar10,
  findCifar10Archives,
  quantlensCacheDir,
  type Cifar10CacheOptions,
} from './cifar10-cache.js';
export { materialize } from './materialize.js';
