import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readNpz, writeNpz } from '../data/npz.js';
import { writeModel } from '../onnx/io/index.js';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { featureCnn } from '../test-support/diffusion-nets.js';
import { fixturePath } from '../test-support/fixtures.js';

// Checkpoints and FID statistics go to a throw-away cache, never the user's.
process.env.QUANTLENS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'ql-cache-'));
const tmp = () => mkdtempSync(join(tmpdir(), 'ql-dcli-'));
const unet = fixturePath('tiny-unet-op17.onnx');
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('quantlens sample', () => {
  it('writes a grid PNG and the raw samples', async () => {
    const d = tmp();
    const r = runCli([
      'sample',
      unet,
      '--steps',
      '4',
      '--samples',
      '5',
      '--batch',
      '2',
      '--out',
      join(d, 'g.png'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ task: 'sample', samples: 5, steps: 4, seed: 0, eta: 0, skip: 'quad' });
    const meta = await sharp(join(d, 'g.png')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([3 * 10 + 2, 2 * 10 + 2, 1]);
    const n = runCli(['sample', unet, '--steps', '4', '--samples', '5', '--out', join(d, 's.npz'), '--json']);
    expect(n.code).toBe(0);
    expect(readNpz(join(d, 's.npz')).get('x0')!.dims).toEqual([5, 1, 8, 8]);
  });

  it('fails with one line on bad input', () => {
    expect(expectOneLineError(runCli(['sample', unet, '--samples', '2']))).toMatch(/needs --out/);
    expect(expectOneLineError(runCli(['sample', unet, '--out', 'x.jpg']))).toMatch(/\.png or \.npz/);
    const deit = runCli(['sample', fixturePath('tiny-deit-op17.onnx'), '--out', join(tmp(), 'x.png')]);
    expect(expectOneLineError(deit)).toMatch(/exactly 2 inputs/);
  });
});

describe('quantlens calib-set', () => {
  it('writes x, t and step for the kept steps', () => {
    const d = tmp();
    const out = join(d, 'calib.npz');
    const args = [
      'calib-set',
      unet,
      '--steps',
      '10',
      '--kept',
      '5',
      '--per-step',
      '3',
      '--batch',
      '2',
      '--out',
      out,
      '--json',
    ];
    const r = runCli([...args, '--resume']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      samples: 15,
      keptSteps: [0, 2, 4, 6, 8],
      timesteps: [800, 483, 246, 88, 9],
      arrays: ['x', 't', 'step'],
    });
    const a = readNpz(out);
    expect(a.get('x')!.dims).toEqual([15, 1, 8, 8]);
    expect(a.get('t')!.dtype).toBe('int64');
    expect(Array.from(a.get('step')!.data as BigInt64Array, Number).slice(0, 4)).toEqual([0, 0, 0, 2]);
    const again = runCli(args);
    expect(again.code).toBe(0);
    expect(Buffer.from(a.get('x')!.data.buffer).equals(Buffer.from(readNpz(out).get('x')!.data.buffer))).toBe(true);
  });

  it('rejects --kept with --interval', () => {
    const r = runCli(['calib-set', unet, '--kept', '3', '--interval', '2', '--out', join(tmp(), 'c.npz')]);
    expect(expectOneLineError(r)).toMatch(/not both/);
  });
});

describe('quantlens eval --task diffusion', () => {
  it('prints FID, IS and throughput, caching the reference statistics', () => {
    const d = tmp();
    const features = join(d, 'features.onnx');
    writeModel(featureCnn(8), features);
    const ref = join(d, 'ref.npz');
    const data = Float32Array.from({ length: 40 * 64 }, (_, i) => Math.sin(i * 0.37) * 1.5);
    writeNpz(ref, new Map([['pixel_values', { dtype: 'float32', dims: [40, 1, 8, 8], data }]]));
    const args = [
      'eval',
      unet,
      '--task',
      'diffusion',
      '--steps',
      '3',
      '--samples',
      '20',
      '--features',
      features,
      '--data',
      ref,
      '--splits',
      '2',
      '--json',
    ];
    const r = runCli(args);
    expect(r.code).toBe(0);
    const j = json(r.stdout);
    expect(j).toMatchObject({ task: 'diffusion', n: 20, steps: 3, seed: 0, reference: { n: 40, cached: false } });
    for (const k of ['fid', 'is', 'imagesPerSec']) expect(typeof j[k]).toBe('number');
    expect(j.fid as number).toBeGreaterThan(0);
    const again = json(runCli(args).stdout);
    expect(again.reference).toMatchObject({ cached: true });
    expect(again.fid).toBe(j.fid);
  });

  it('needs --features and --data', () => {
    expect(expectOneLineError(runCli(['eval', unet, '--task', 'diffusion', '--data', 'x']))).toMatch(/--features/);
    expect(expectOneLineError(runCli(['eval', unet, '--task', 'diffusion', '--features', unet]))).toMatch(/--data/);
    expect(expectOneLineError(runCli(['eval', unet, '--task', 'segmentation', '--data', 'x']))).toMatch(
      /not available/,
    );
  });
});
