// The CI slice of the fuzzer (bench/fuzz-long.ts runs 10,000+ cases): mutated and truncated fixtures, external data
// included, through read, inspect, quantize and the graph rewrites in process (an ORT calibration and session for a
// sample), and the built CLI on a few. Every case must end in success or a one-line QuantlensError, within a
// CPU-time bound.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/cli.js';
import { fixturesDir } from '../test-support/fixtures.js';
import { addResult, emptySummary, loadCorpus, makeCase, runCase, type CaseResult } from './fuzz-case.js';

const SEED = 20_250_601;
const CASES = 300;
/** every RUNTIME_EVERY-th case also calibrates with ORT and runs the simulated model */
const RUNTIME_EVERY = 30;

const root = mkdtempSync(join(tmpdir(), 'ql-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const corpus = loadCorpus(fixturesDir);

const show = (f: CaseResult) =>
  `case ${f.index} (${f.seed}: ${f.steps.join(' | ')}; ${f.method}) at ${f.stage}: ${f.problem ?? ''} ${f.message ?? ''}`;

describe('fuzzing the model reader and the quantizer', () => {
  it(`${CASES} mutated models: success or a one-line typed error, each within 2 s of CPU`, async () => {
    const summary = emptySummary(SEED);
    // mse-range's 80-candidate search makes a case ~10x slower; the long run covers it.
    const methods = ['minmax', 'percentile', 'mse-quantile'] as const;
    for (let i = 0; i < CASES; i++) {
      const runtime = i % RUNTIME_EVERY === 0;
      addResult(summary, await runCase(corpus, SEED, i, { workDir: root, runtime, slowMs: 2000, methods }), runtime);
    }
    expect(summary.failures.map(show)).toEqual([]);
    // The mutations reach every stage: some files are refused by the reader, some pass it, some get to ORT.
    const rejected = (prefix: string) =>
      Object.entries(summary.rejected)
        .filter(([k]) => k.startsWith(prefix))
        .reduce((n, [, v]) => n + v, 0);
    expect(rejected('read/')).toBeGreaterThan(CASES * 0.2);
    expect(summary.ok).toBeGreaterThan(CASES * 0.2);
    expect(rejected('runtime/') + rejected('quantize/')).toBeGreaterThan(0);
    expect(summary.runtimeSessions).toBeGreaterThan(CASES / RUNTIME_EVERY / 3);
    expect(Object.keys(summary.bySeed)).toContain('tiny-deit-ext');
  });

  it('the CLI on mutated files: JSON and exit 0, or one error line and a hint; never an internal error', () => {
    let runs = 0;
    for (let i = 0; runs < 4; i++) {
      const c = makeCase(corpus, SEED + 1, i);
      const dir = join(root, `cli-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.onnx'), c.model);
      if (c.entry.ext !== undefined) writeFileSync(join(dir, c.entry.ext.location), c.data!);
      const r = runCli(['inspect', join(dir, 'model.onnx'), '--json']);
      const what = `case ${i}: ${c.steps.join(' | ')}`;
      if (r.code === 0) expect(() => JSON.parse(r.stdout) as unknown, what).not.toThrow();
      else {
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines[0], what).toMatch(/^error: /);
        expect(lines.length, what).toBeLessThanOrEqual(2);
        expect(r.stderr, what).not.toMatch(/internal error|\n\s+at /);
      }
      runs++;
    }
  });
});
