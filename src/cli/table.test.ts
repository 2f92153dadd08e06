import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

describe('quantlens table', () => {
  it("writes the papers' table form with FP and every method x bits row, and JSON beside it", () => {
    const d = mkdtempSync(join(tmpdir(), 'ql-t-'));
    const out = join(d, 'r.md');
    const args = [
      'table',
      fixturePath('tiny-deit-op17.onnx'),
      '--test-data',
      'fashion-mnist',
      '--data',
      'fashion-mnist',
    ];
    const r = runCli([
      ...args,
      '--size',
      '16',
      '--methods',
      'minmax,percentile',
      '--bits',
      'W8A8,W4A4',
      '--limit',
      '64',
      '--calib',
      '8',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/\| Method \| W\/A \| .*tiny-deit-op17\.onnx \|/);
    for (const row of [
      'Full precision | 32/32',
      'minmax | 8/8',
      'minmax | 4/4',
      'percentile | 8/8',
      'percentile | 4/4',
    ])
      expect(md).toContain(`| ${row} |`);
    const j = JSON.parse(readFileSync(join(d, 'r.json'), 'utf8')) as { rows: { n: number; top1: number }[] };
    expect(j.rows).toHaveLength(5);
    expect(j.rows.every((x) => x.n === 64 && x.top1 >= 0 && x.top1 <= 1)).toBe(true);
  });

  it('rejects unknown methods and malformed bit settings', () => {
    const base = ['table', fixturePath('tiny-deit-op17.onnx'), '--out', join(tmpdir(), 'x.md')];
    expect(expectOneLineError(runCli([...base, '--methods', 'magic']))).toMatch(/unknown method magic/);
    expect(expectOneLineError(runCli([...base, '--bits', 'W4']))).toMatch(/W4A8/);
  });
});
