// Every file quantlens writes goes through here: write a temporary file beside the target (created exclusively,
// never through a symlink), flush it, then rename it over the target, so a reader sees the old file or the new
// one and never half of either.

import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ioError, describeError } from '../errors.js';

type Chunk = Uint8Array | string;

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Write `chunks` (in order) to `target` atomically. */
export function writeFileAtomic(target: string, chunks: Chunk | Iterable<Chunk>): void {
  const tmp = tempPathFor(target);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw ioError(`cannot write ${target}: ${describeError(e)}`, 'check that the output folder exists and is writable');
  }
  try {
    const list = typeof chunks === 'string' || chunks instanceof Uint8Array ? [chunks] : chunks;
    for (const chunk of list) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let written = 0;
      while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw ioError(`cannot write ${target}: ${describeError(e)}`);
  }
}
