// The development copy of CIFAR-10 (JPEG ImageFolder tarballs in ../shared/data/cifar10, never in the repository)
// unpacked once into the user cache, for tests, CLI checks and benchmarks. Unpacking goes to a temporary folder
// that is renamed into place, so a half-unpacked copy is never seen, even with several test workers racing.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dataError, describeError, ioError } from '../errors.js';
import type { Split } from './split.js';

const run = promisify(execFile);

/** quantlens's cache folder: $QUANTLENS_CACHE_DIR, else $XDG_CACHE_HOME/quantlens, else ~/.cache/quantlens. */
export function quantlensCacheDir(): string {
  const env = process.env['QUANTLENS_CACHE_DIR'];
  if (env !== undefined && env !== '') return resolve(env);
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'quantlens');
}

/**
 * The folder holding the CIFAR-10 tarballs: $QUANTLENS_CIFAR10_DIR, else the first `shared/data/cifar10` found
 * walking up from this module and from the working directory (the checkout sits beside `shared/`).
 */
export function findCifar10Archives(): string | undefined {
  const env = process.env['QUANTLENS_CIFAR10_DIR'];
  if (env !== undefined && env !== '') return resolve(env);
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let d = start; ; d = dirname(d)) {
      const candidate = join(d, 'shared', 'data', 'cifar10');
      if (existsSync(join(candidate, 'test.tar.gz')) || existsSync(join(candidate, 'train.tar.gz'))) return candidate;
      if (dirname(d) === d) break;
    }
  }
  return undefined;
}

export interface Cifar10CacheOptions {
  /** Folder with train.tar.gz / test.tar.gz (default: `findCifar10Archives()`). */
  archiveDir?: string;
  /** Cache root (default: `quantlensCacheDir()`); the split lands in `<cacheDir>/cifar10/<split>`. */
  cacheDir?: string;
}

function unpacked(opts: Cifar10CacheOptions, split: Split): string {
  return join(opts.cacheDir ?? quantlensCacheDir(), 'cifar10', split);
}

/** Whether `ensureCifar10(split)` can succeed: already unpacked, or its tarball is at hand. */
export function cifar10Available(split: Split = 'test', opts: Cifar10CacheOptions = {}): boolean {
  const dir = unpacked(opts, split);
  if (existsSync(dir) && readdirSync(dir).length > 0) return true;
  const archives = opts.archiveDir ?? findCifar10Archives();
  return archives !== undefined && existsSync(join(archives, `${split}.tar.gz`));
}

/** The ImageFolder path of a CIFAR-10 split (`<cache>/cifar10/<split>/<class>/*.jpg`), unpacking it if needed. */
export async function ensureCifar10(split: Split = 'test', opts: Cifar10CacheOptions = {}): Promise<string> {
  const target = unpacked(opts, split);
  if (existsSync(target) && readdirSync(target).length > 0) return target;
  const archives = opts.archiveDir ?? findCifar10Archives();
  const tarball = archives !== undefined ? join(archives, `${split}.tar.gz`) : undefined;
  if (tarball === undefined || !existsSync(tarball))
    throw dataError(
      `the CIFAR-10 ${split} archive was not found${tarball !== undefined ? ` at ${tarball}` : ''}`,
      'set QUANTLENS_CIFAR10_DIR to the folder holding train.tar.gz and test.tar.gz',
    );
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.unpack-${split}-`));
  try {
    try {
      await run('tar', ['-xzf', tarball, '-C', tmp], { maxBuffer: 1 << 20 });
    } catch (e) {
      throw ioError(
        `cannot unpack ${tarball}: ${describeError(e)}`,
        'quantlens needs the system tar with gzip support',
      );
    }
    const inner = join(tmp, split);
    if (!existsSync(inner)) throw dataError(`${tarball} does not contain a ${split}/ folder`);
    try {
      renameSync(inner, target);
    } catch (e) {
      // Another process finished first: its copy is complete (it was renamed into place whole), so use it.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(target))
        throw ioError(`cannot move the unpacked CIFAR-10 into ${target}: ${describeError(e)}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}
