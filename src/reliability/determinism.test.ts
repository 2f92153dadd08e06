// The same quantize command with the same seed, run twice as separate processes at the same time (default ORT
// threads), writes byte-identical models, QDQ exports and sidecars, for every registered method; timings appear
// only in the --json output. (src/cli/quantize.test.ts checks mse-quantile W4A8 the same way.)

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { methodNames } from '../methods/registry.js';
import { fixturePath } from '../test-support/fixtures.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';
const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'ql-det-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, QUANTLENS_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Bit widths per method: a mix of QDQ-exportable (W8A8), opset-21 raised (W4) and emulated (W6A6) quantizers.
const BITS: Record<string, [number, number]> = {
  minmax: [8, 8],
  percentile: [4, 8],
  'mse-quantile': [6, 6],
  'mse-range': [4, 4],
  'repq-vit': [4, 4],
};
const TIMING_KEYS = ['calibSeconds', 'totalSeconds', 'seconds'];

function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !TIMING_KEYS.includes(k))
      .map(([k, x]) => [k, withoutTimings(x)]),
  );
}

describe('quantize is deterministic across runs', () => {
  const methods = methodNames().filter((m) => m in BITS);

  it.each(methods)('%s: two concurrent runs write the same bytes', async (method) => {
    const [w, a] = BITS[method]!;
    const dirs = [mkdtempSync(join(root, `${method}-`)), mkdtempSync(join(root, `${method}-`))];
    const args = (d: string) => [
      'quantize',
      fixturePath('tiny-deit-op17.onnx'),
      '--data',
      FMNIST,
      '--calib',
      '8',
      '--seed',
      '3',
      '--method',
      method,
      '--w-bits',
      String(w),
      '--a-bits',
      String(a),
      '--out',
      join(d, 'q.onnx'),
      '--json',
    ];
    const runs = await Promise.all(dirs.map((d) => cli(args(d))));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const file of ['q.onnx', 'q.qdq.onnx', 'q.quant.json']) {
      if (!existsSync(join(dirs[0]!, file))) continue; // no QDQ export when nothing has a QDQ form
      const [x, y] = dirs.map((d) => readFileSync(join(d, file)));
      expect(x!.equals(y!), `${method} ${file}`).toBe(true);
    }
    const sidecar = readFileSync(join(dirs[0]!, 'q.quant.json'), 'utf8');
    expect(sidecar).not.toMatch(/seconds|"time|elapsed|date/i);
    // The --json outputs differ only in their timings and output paths.
    const [j0, j1] = runs.map((r, i) => JSON.parse(r.stdout.replaceAll(dirs[i]!, '<out>')) as Record<string, unknown>);
    expect(typeof j0!.calibSeconds).toBe('number');
    expect(withoutTimings(j0)).toEqual(withoutTimings(j1));
  });
});
