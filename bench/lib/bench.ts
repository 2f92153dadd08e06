// The contract between bench/run.ts and each benchmark module.

import type { BenchOutput } from './results.js';

export interface BenchContext {
  quick: boolean;
  /** ORT intra-op threads and torch.set_num_threads (2: the machine's cores) */
  threads: number;
  /** repeats for a full run or a --quick run */
  repeats(full: number, quick: number): number;
  log(msg: string): void;
  /** where benchmarks may write scratch files (the bench cache; never the repository) */
  scratch: string;
  /** --fresh: redo steps that resumable benchmarks saved as done */
  fresh: boolean;
  /** --jobs REGEX: only the steps of a multi-step benchmark whose id matches */
  jobs?: RegExp;
}

export interface Benchmark {
  name: string;
  title: string;
  /** paper-sized models: slow, never part of --quick */
  fullOnly?: boolean;
  run(ctx: BenchContext): Promise<BenchOutput>;
}
