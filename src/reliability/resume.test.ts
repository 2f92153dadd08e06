// `calib-set --resume`: a run killed (SIGKILL) at seeded random points, twice, then finished with --resume, writes
// the same NPZ bytes as an uninterrupted run with the same seed. Kills are placed by watching the checkpoint
// folder (after k finished batches, plus a random delay that lands inside a batch or inside its write).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/calib.js';
import { runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'ql-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BATCHES = 24;
const args = (out: string, checkpoint: string) => [
  'calib-set',
  fixturePath('tiny-unet-op17.onnx'),
  '--out',
  out,
  '--steps',
  '40',
  '--kept',
  '8',
  '--per-step',
  String(2 * BATCHES),
  '--batch',
  '2',
  '--seed',
  '5',
  '--threads',
  '1',
  '--checkpoint',
  checkpoint,
  '--json',
];

const finished = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => /^batch-\d+\.npz$/.test(n)) : []);

/** Runs calib-set and kills it once `k` batches are saved and `delayMs` more have passed; false if it finished. */
function killAfter(argv: string[], checkpoint: string, k: number, delayMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...argv], { stdio: 'ignore' });
    const poll = setInterval(() => {
      if (finished(checkpoint).length < k) return;
      clearInterval(poll);
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    }, 2);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      resolve(signal === 'SIGKILL');
    });
  });
}

describe('calib-set --resume after SIGKILL', () => {
  it('gives the bytes of an uninterrupted run', async () => {
    const reference = join(root, 'reference.npz');
    const r0 = runCli(args(reference, join(root, 'ck-reference')));
    expect(r0.code, r0.stderr).toBe(0);

    const rand = mulberry32(7);
    const out = join(root, 'resumed.npz');
    const checkpoint = join(root, 'ck');
    const k1 = 2 + Math.floor(rand() * 8);
    const k2 = k1 + 2 + Math.floor(rand() * 8);
    expect(await killAfter(args(out, checkpoint), checkpoint, k1, rand() * 40)).toBe(true);
    const afterFirst = finished(checkpoint).length;
    expect(afterFirst).toBeGreaterThanOrEqual(k1);
    expect(await killAfter([...args(out, checkpoint), '--resume'], checkpoint, k2, rand() * 40)).toBe(true);
    expect(existsSync(out)).toBe(false);

    const r = runCli([...args(out, checkpoint), '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { resumedBatches: number }).resumedBatches).toBeGreaterThanOrEqual(k2);
    expect(readFileSync(out).equals(readFileSync(reference))).toBe(true);
  });
});
