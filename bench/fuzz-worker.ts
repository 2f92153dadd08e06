// Child process of bench/fuzz-long.ts: runs the cases the parent sends, one at a time, and answers with each result.
// A case that never answers is killed from outside (a hang), a case that kills this process is a crash.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCorpus, runCase } from '../src/reliability/fuzz-case.js';
import type { LinearMethod } from '../src/methods/ptq.js';

export interface WorkerRequest {
  index: number;
  seed: number;
  runtime: boolean;
  slowMs: number;
  methods?: LinearMethod[];
}

const corpus = loadCorpus(fileURLToPath(new URL('../fixtures/', import.meta.url)));
// Inside the parent's scratch folder, which the parent removes even when this process is killed.
const workDir = mkdtempSync(join(process.env['QL_FUZZ_SCRATCH'] ?? tmpdir(), 'worker-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
process.on('disconnect', () => process.exit(0));

process.on('message', (m: WorkerRequest) => {
  void runCase(corpus, m.seed, m.index, {
    workDir,
    runtime: m.runtime,
    slowMs: m.slowMs,
    ...(m.methods === undefined ? {} : { methods: m.methods }),
  }).then((result) => process.send!({ result }));
});
process.send!({ ready: true });
