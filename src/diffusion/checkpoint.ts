// Resumable long runs: each finished batch is written to its own NPZ in a checkpoint folder (atomically, so a
// killed run leaves whole batches only), next to a meta.json that says which run the folder belongs to. A resumed
// run reuses the batches whose files exist and recomputes the rest; since noise is a function of (seed, sample,
// step), that gives the same bytes as an uninterrupted run.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { quantlensCacheDir } from '../data/cifar10-cache.js';
import { readNpz, writeNpz } from '../data/npz.js';
import { describeError, ioError, usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export type RunMeta = Record<string, string | number | boolean | null>;

const META = 'meta.json';
const batchFile = (i: number) => `batch-${String(i).padStart(6, '0')}.npz`;
const OWN = /^(meta\.json|batch-\d{6}\.npz)$/;

/** Stable text of a meta object (sorted keys), the identity of a run. */
function canonical(meta: RunMeta): string {
  return JSON.stringify(Object.fromEntries(Object.entries(meta).sort(([a], [b]) => a.localeCompare(b))));
}

/** `<cache>/runs/<kind>-<hash of meta>`: the same command line finds the same folder again. */
export function defaultCheckpointDir(kind: string, meta: RunMeta): string {
  const hash = createHash('sha256').update(canonical(meta)).digest('hex').slice(0, 16);
  return join(quantlensCacheDir(), 'runs', `${kind}-${hash}`);
}

export class BatchCheckpoint {
  private constructor(
    readonly dir: string,
    /** batches found on disk when the run started */
    readonly resumed: number,
  ) {}

  /** Opens (resume) or starts afresh (clearing a previous run's files in `dir`). */
  static open(dir: string, meta: RunMeta, resume: boolean): BatchCheckpoint {
    const metaPath = join(dir, META);
    if (resume && existsSync(metaPath)) {
      let old: RunMeta;
      try {
        old = JSON.parse(readFileSync(metaPath, 'utf8')) as RunMeta;
      } catch (e) {
        throw ioError(`cannot read the checkpoint ${metaPath}: ${describeError(e)}`, 'delete the folder to start over');
      }
      const key = Object.keys({ ...old, ...meta }).find((k) => old[k] !== meta[k]);
      if (key !== undefined)
        throw usageError(
          `the checkpoint in ${dir} is of another run (${key}: ${String(old[key])} there, ${String(meta[key])} now)`,
          'repeat the original settings to resume, or drop --resume to start over',
        );
      const found = readdirSync(dir).filter((n) => /^batch-\d{6}\.npz$/.test(n)).length;
      return new BatchCheckpoint(dir, found);
    }
    try {
      mkdirSync(dir, { recursive: true });
      for (const n of readdirSync(dir)) if (OWN.test(n)) unlinkSync(join(dir, n));
    } catch (e) {
      throw ioError(`cannot prepare the checkpoint folder ${dir}: ${describeError(e)}`);
    }
    writeFileAtomic(metaPath, canonical(meta) + '\n');
    return new BatchCheckpoint(dir, 0);
  }

  has(i: number): boolean {
    return existsSync(join(this.dir, batchFile(i)));
  }

  load(i: number): Map<string, HostTensor> {
    return readNpz(join(this.dir, batchFile(i)));
  }

  save(i: number, arrays: ReadonlyMap<string, HostTensor>): void {
    writeNpz(join(this.dir, batchFile(i)), arrays);
  }

  /** Removes the folder once the run's result is safely written. */
  remove(): void {
    try {
      for (const n of readdirSync(this.dir)) if (OWN.test(n)) unlinkSync(join(this.dir, n));
      rmdirSync(this.dir);
    } catch {
      // a leftover folder only costs disk space; the result is already written
    }
  }
}
