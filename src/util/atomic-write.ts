// Every file quantlens writes goes through here: write a temporary file beside the target (created exclusively,
// never through a symlink), flush it, then rename it over the target, so a reader sees the old file or the new
// one and never half of either. A process killed mid-write leaves its temporary file behind (never the target);
// the next successful write of the same target removes such leftovers of dead processes.

import {
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ioError, describeError } from '../errors.js';

type Chunk = Uint8Array | string;

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** A leftover must be this old before it is removed (a writer on another machine sharing the folder). */
export const STALE_TEMP_MS = 60_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files of `target` left by processes that no longer run (killed mid-write). Best effort. */
export function removeStaleTemps(target: string): void {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    const pid = Number(m?.[1]);
    if (m === null || pid === process.pid || processAlive(pid)) continue;
    try {
      const st = lstatSync(join(dir, name));
      if (st.isFile() && Date.now() - st.mtimeMs > STALE_TEMP_MS) unlinkSync(join(dir, name));
    } catch {
      // gone already, or not ours to remove
    }
  }
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
  removeStaleTemps(target);
}
