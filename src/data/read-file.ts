// File reads for data/: every failure becomes one line naming the file.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describeError, ioError } from '../errors.js';

function readFailure(path: string, e: unknown) {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return ioError(`no such file: ${path}`, 'check the --data path');
  if (code === 'EISDIR') return ioError(`${path} is a folder, expected a file`);
  return ioError(`cannot read ${path}: ${describeError(e)}`);
}

export function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw readFailure(path, e);
  }
}

export async function readBytesAsync(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw readFailure(path, e);
  }
}
