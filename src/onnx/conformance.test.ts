// ONNX's own test suite as a conformance check of the reader, the writer and the runtime wrapper. With
// QL_WRITE_DOCS=1 it also writes docs/conformance.md.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onnxruntimeVersion } from '../runtime/ort.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { conformanceMarkdown, runConformance, TESTDATA_ROOT } from './conformance.js';

const COMMAND = 'QL_WRITE_DOCS=1 npx vitest run src/onnx/conformance.test.ts';
const DOC = fileURLToPath(new URL('../../docs/conformance.md', import.meta.url));

describe.skipIf(!existsSync(TESTDATA_ROOT))('ONNX test suite (libonnx-testdata)', () => {
  it('round-trips every model, and ORT computes bit-identical outputs on our copies', async () => {
    const { summary } = await runConformance({ threads: 1 });
    const line = `${summary.total} models, ${summary.roundTripIdentical} round-trip identical, ${summary.ortLoadable} load in ORT, ${summary.run} run, ${summary.copyBitIdentical} bit-identical, ${summary.copyMatchesExpected}/${summary.originalMatchesExpected} match expected, ${summary.failures.length} failures (${summary.seconds.toFixed(1)} s)`;
    console.log(line);
    if (process.env.QL_WRITE_DOCS === '1') {
      mkdirSync(dirname(DOC), { recursive: true });
      writeFileAtomic(DOC, conformanceMarkdown(summary, { onnxruntime: onnxruntimeVersion, command: COMMAND }));
    }
    expect(summary.failures).toEqual([]);
    // Guards against a suite that passes by running nothing (e.g. test data moved, ORT unable to load anything).
    expect(summary.total).toBeGreaterThan(1000);
    expect(summary.roundTripIdentical).toBe(summary.total);
    expect(summary.run / summary.total).toBeGreaterThan(0.85);
    expect(summary.originalMatchesExpected / summary.run).toBeGreaterThan(0.95);
  }, 120_000);
});
