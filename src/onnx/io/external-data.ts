// Reading external tensor data safely. A location must name a regular file inside the model's folder: no absolute
// paths, no `..`, no symlink (final or intermediate) leading outside, no hardlink (another name for a file that
// may live anywhere), and offset + length within the file. These are the classes of the ONNX library's CVEs.

import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { modelError, describeError } from '../../errors.js';
import type { ExternalRef } from './from-proto.js';

export function checkLocationSyntax(location: string, tensor: string): void {
  const parts = location.split(/[\\/]/);
  if (location === '' || isAbsolute(location) || /^[a-zA-Z]:/.test(location) || location.startsWith('\\'))
    throw modelError(
      `tensor ${tensor}: external data location "${location}" must be a relative path inside the model folder`,
    );
  if (parts.includes('..'))
    throw modelError(
      `tensor ${tensor}: external data location "${location}" contains "..", refusing to leave the model folder`,
    );
  if (location.includes('\0')) throw modelError(`tensor ${tensor}: external data location contains a NUL byte`);
}

/** Resolve `location` against `modelDir`, refusing anything that ends up outside it. */
export function resolveInside(modelDir: string, location: string, tensor: string): string {
  checkLocationSyntax(location, tensor);
  let realDir: string;
  let realFile: string;
  try {
    realDir = realpathSync(modelDir);
  } catch (e) {
    throw modelError(`cannot resolve model folder ${modelDir}: ${describeError(e)}`);
  }
  try {
    realFile = realpathSync(join(modelDir, location));
  } catch {
    throw modelError(`tensor ${tensor}: external data file "${location}" not found next to the model`);
  }
  const rel = relative(realDir, realFile);
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel))
    throw modelError(`tensor ${tensor}: external data "${location}" resolves outside the model folder (symlink?)`);
  return realFile;
}

/** Loader for from-proto: one open per file per model would be nicer, but the checks must run per location. */
export function makeExternalLoader(modelDir: string): (tensor: string, ref: ExternalRef) => Uint8Array {
  const checked = new Map<string, { path: string; size: number }>();
  // Bytes handed out per real file: more than the file holds means tensors overlap, which would let a small model
  // multiply one large file into any amount of memory.
  const used = new Map<string, number>();
  return (tensor, ref) => {
    let file = checked.get(ref.location);
    if (file === undefined) {
      const path = resolveInside(modelDir, ref.location, tensor);
      const st = statSync(path);
      if (!st.isFile()) throw modelError(`tensor ${tensor}: external data "${ref.location}" is not a regular file`);
      if (st.nlink > 1)
        throw modelError(
          `tensor ${tensor}: external data "${ref.location}" is a hardlink (${st.nlink} names), refusing it`,
        );
      file = { path, size: st.size };
      checked.set(ref.location, file);
    }
    const length = ref.length ?? file.size - ref.offset;
    if (ref.offset + length > file.size)
      throw modelError(
        `tensor ${tensor}: external data range ${ref.offset}+${length} runs past the end of "${ref.location}" (${file.size} bytes)`,
      );
    const total = (used.get(file.path) ?? 0) + length;
    if (total > file.size)
      throw modelError(
        `tensor ${tensor}: external data in "${ref.location}" overlaps other tensors (${total} bytes read from a ${file.size}-byte file)`,
      );
    used.set(file.path, total);
    // O_NOFOLLOW on the resolved real path: the file cannot be swapped for a symlink between check and open.
    const fd = openSync(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (st.nlink > 1 || st.size !== file.size)
        throw modelError(`tensor ${tensor}: external data "${ref.location}" changed while it was being read`);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, ref.offset + done);
        if (n === 0) break;
        done += n;
      }
      if (done !== length) throw modelError(`tensor ${tensor}: short read from "${ref.location}"`);
      return out;
    } finally {
      closeSync(fd);
    }
  };
}
