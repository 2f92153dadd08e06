// NPZ (np.savez / np.savez_compressed): a zip archive of NPY files named <array>.npy, stored or deflated.
// The zip is read with fflate; entries are parsed by npy.ts.

import { unzipSync, zipSync, type Zippable } from 'fflate';
import { dataError, describeError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { HostTensor } from '../util/host-tensor.js';
import { encodeNpy, parseNpy } from './npy.js';
import { readBytes } from './read-file.js';

/** Arrays of an NPZ archive by name (the entry name without `.npy`), in archive order. */
export function parseNpz(bytes: Uint8Array, what: string): Map<string, HostTensor> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw dataError(`${what} is not a readable NPZ (zip) file: ${describeError(e)}`, 'is it truncated?');
  }
  const arrays = new Map<string, HostTensor>();
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith('/')) continue; // directory entries
    if (!name.endsWith('.npy'))
      throw dataError(`${what} holds '${name}', which is not an .npy array`, 'an NPZ file holds only .npy entries');
    arrays.set(name.slice(0, -4), parseNpy(data, `${what}:${name}`));
  }
  return arrays;
}

export function readNpz(path: string): Map<string, HostTensor> {
  return parseNpz(readBytes(path), path);
}

export interface NpzWriteOptions {
  /** Deflate the entries, as np.savez_compressed (default: stored, as np.savez). */
  compress?: boolean;
}

export function encodeNpz(arrays: ReadonlyMap<string, HostTensor>, opts: NpzWriteOptions = {}): Uint8Array {
  const files: Zippable = {};
  for (const [name, t] of arrays) files[`${name}.npy`] = encodeNpy(t);
  // A fixed mtime keeps the output byte-for-byte reproducible.
  return zipSync(files, { level: opts.compress === true ? 6 : 0, mtime: new Date(1980, 0, 1) });
}

export function writeNpz(path: string, arrays: ReadonlyMap<string, HostTensor>, opts: NpzWriteOptions = {}): void {
  writeFileAtomic(path, encodeNpz(arrays, opts));
}
