// `quantlens analyze` and `quantlens report` as a user runs them: the three files, the JSON summary, a merged
// report over a folder and a sidecar, the time step-aware path for a UNet, and one-line errors.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpz } from '../data/npz.js';
import { randn, rng } from '../quant/test-helpers.js';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ql-analyze-'));
const r = rng(5);
const deitData = join(dir, 'deit.npz');
writeNpz(
  deitData,
  new Map([
    ['pixel_values', { dtype: 'float32' as const, dims: [40, 3, 16, 16], data: randn(r, 40 * 768) }],
    [
      'labels',
      { dtype: 'int64' as const, dims: [40], data: BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 10)) },
    ],
  ]),
);
const unetData = join(dir, 'unet.npz');
writeNpz(
  unetData,
  new Map([
    ['x', { dtype: 'float32' as const, dims: [6, 1, 8, 8], data: randn(r, 6 * 64) }],
    ['t', { dtype: 'int64' as const, dims: [6], data: BigInt64Array.from([999n, 999n, 500n, 500n, 0n, 0n]) }],
    ['step', { dtype: 'int64' as const, dims: [6], data: BigInt64Array.from([0n, 0n, 1n, 1n, 2n, 2n]) }],
  ]),
);

describe('quantlens analyze', () => {
  it('writes report.html, analysis.json and analysis.md for a ViT, and report merges it with a sidecar', () => {
    const out = join(dir, 'deit');
    const res = runCli([
      'analyze',
      fixturePath('tiny-deit-op17.onnx'),
      '--data',
      deitData,
      '--calib',
      '8',
      '--limit',
      '16',
      '--threads',
      '1',
      '--out',
      out,
      '--json',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const j = JSON.parse(res.stdout) as { outputs: Record<string, string>; findings: string[]; schemaVersion: number };
    expect(j.schemaVersion).toBe(1);
    for (const f of ['report.html', 'analysis.json', 'analysis.md']) expect(existsSync(join(out, f))).toBe(true);
    expect(j.findings.join('\n')).toMatch(/inter-channel variation/);
    const a = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as {
      settings: { calibItems: number };
      sensitivity: { evalItems: number };
    };
    expect(a.settings.calibItems).toBe(8);
    expect(a.sensitivity.evalItems).toBe(16);
    const sidecar = join(dir, 'run.quant.json');
    writeFileSync(sidecar, JSON.stringify({ method: 'minmax', wBits: 8, aBits: 8, quantizers: [] }));
    const merged = join(dir, 'merged.html');
    const rep = runCli(['report', out, sidecar, '--out', merged]);
    expect(rep.code).toBe(0);
    expect(rep.stdout).toMatch(/1 analyses, 1 quantization runs/);
    expect(readFileSync(merged, 'utf8')).toMatch(/Quantization runs/);
  });

  it('analyzes a UNet on a time step-aware NPZ: per-step ranges, shortcuts, error accumulation', () => {
    const out = join(dir, 'unet');
    const res = runCli([
      'analyze',
      fixturePath('tiny-unet-op13.onnx'),
      '--data',
      unetData,
      '--no-sensitivity',
      '--error-samples',
      '2',
      '--steps',
      '3',
      '--skip',
      'uniform',
      '--threads',
      '1',
      '--out',
      out,
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/across 3 sampler steps/);
    expect(res.stdout).toMatch(/Shortcut Concats feeding a Conv: 4/);
    expect(res.stdout).toMatch(/Error accumulation/);
    const a = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as {
      timesteps: { steps: number[] };
      model: { kind: string };
    };
    expect(a.timesteps.steps).toEqual([0, 1, 2]);
    expect(a.model.kind).toBe('diffusion');
  });

  it('fails with one line on bad usage and bad input', () => {
    const noOut = runCli(['analyze', fixturePath('tiny-deit-op17.onnx'), '--data', deitData]);
    expect(noOut.code).toBe(2);
    expect(expectOneLineError(noOut)).toMatch(/--out/);
    const noData = runCli([
      'analyze',
      fixturePath('tiny-deit-op17.onnx'),
      '--data',
      join(dir, 'missing.npz'),
      '--out',
      join(dir, 'x'),
    ]);
    expect(noData.code).toBe(1);
    expectOneLineError(noData);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"hello": 1}');
    expectOneLineError(runCli(['report', bad, '--out', join(dir, 'y.html')]));
  });
});
