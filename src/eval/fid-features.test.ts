import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../onnx/io/index.js';
import { tensorDataset } from '../data/tensor-dataset.js';
import { fixturePath } from '../test-support/fixtures.js';
import { featureCnn } from '../test-support/diffusion-nets.js';
import { DEFAULT_SCHEDULE } from '../diffusion/schedule.js';
import { evaluateDiffusion } from '../diffusion/evaluate.js';
import { sampleRun } from '../diffusion/run.js';
import { toUint8Images } from '../diffusion/images.js';
import type { SamplerConfig } from '../diffusion/sampler.js';
import {
  FeatureExtractor,
  datasetStats,
  preprocessImages,
  referenceCachePath,
  referenceStats,
  type FeatureNet,
} from './fid-features.js';

const net: FeatureNet = {
  model: featureCnn(8),
  sha256: 'a'.repeat(64),
  featuresOutput: 'features',
  logitsOutput: 'logits',
  preprocess: { channels: 1, mean: [0.5], std: [0.25] },
};
const unet = readModel(fixturePath('tiny-unet-op17.onnx'));
const cfg: SamplerConfig = { sampler: 'ddim', steps: 5, skip: 'quad', eta: 0, schedule: DEFAULT_SCHEDULE };

describe('preprocessImages', () => {
  it('takes uint8 samples through the feature model’s preprocessing (normalize, pad)', () => {
    const t = preprocessImages(
      { data: Uint8Array.of(255), n: 1, channels: 1, height: 1, width: 1 },
      { channels: 1, mean: [0.5], std: [0.25], pad: 1 },
    );
    expect(t.dims).toEqual([1, 1, 3, 3]);
    expect(Array.from(t.data as Float32Array)).toEqual([-2, -2, -2, -2, 2, -2, -2, -2, -2]);
  });
});

describe('FID of a diffusion model end to end', () => {
  it('is ~0 against reference statistics of the very same samples; IS is finite; reference stats are cached', async () => {
    const n = 24;
    const images = [];
    for await (const b of sampleRun(unet, cfg, { seed: 5, samples: n, batch: 10 })) images.push(toUint8Images(b.x0));
    const data = new Float32Array(n * 64);
    let o = 0;
    for (const imgs of images) {
      const t = preprocessImages(imgs, net.preprocess).data as Float32Array;
      data.set(t, o);
      o += t.length;
    }
    const ds = tensorDataset(new Map([['pixel_values', { dtype: 'float32', dims: [n, 1, 8, 8], data }]]), 'same.npz');
    const ex = await FeatureExtractor.create(net);
    const cacheDir = mkdtempSync(join(tmpdir(), 'ql-fidcache-'));
    const first = await referenceStats(ex, ds, { dataset: 'same', split: 'train' }, { cacheDir, batch: 7 });
    expect(first.cached).toBe(false);
    expect(existsSync(first.path)).toBe(true);
    const again = await referenceStats(ex, ds, { dataset: 'same', split: 'train' }, { cacheDir });
    expect(again.cached).toBe(true);
    expect(Array.from(again.stats.sigma)).toEqual(Array.from(first.stats.sigma));
    const other = await referenceStats(ex, ds, { dataset: 'same', split: 'test' }, { cacheDir });
    expect(other.cached).toBe(false);

    const r = await evaluateDiffusion(unet, cfg, ex, first.stats, { seed: 5, samples: n, batch: 8, splits: 4 });
    expect(r).toMatchObject({ task: 'diffusion', n, steps: 5, seed: 5, referenceN: n, featureDim: 8 });
    expect(Math.abs(r.fid)).toBeLessThan(1e-6);
    expect(r.is).toBeGreaterThanOrEqual(1);
    expect(r.imagesPerSec).toBeGreaterThan(0);
    expect(r.unetEvalsPerSec).toBeCloseTo(r.imagesPerSec * 5, 6);

    const shifted = await evaluateDiffusion(unet, cfg, ex, first.stats, { seed: 6, samples: n, batch: 8, splits: 4 });
    expect(shifted.fid).toBeGreaterThan(1e-3);
    await ex.release();
  });

  it('streams dataset statistics in batches; names missing outputs', async () => {
    const ds = tensorDataset(
      new Map([
        [
          'pixel_values',
          { dtype: 'float32', dims: [9, 1, 8, 8], data: Float32Array.from({ length: 9 * 64 }, (_, i) => Math.sin(i)) },
        ],
      ]),
      'x.npz',
    );
    const ex = await FeatureExtractor.create(net);
    const a = await datasetStats(ex, ds, { batch: 2 });
    const b = await datasetStats(ex, ds, { batch: 9 });
    a.sigma.forEach((v, i) => expect(v).toBeCloseTo(b.sigma[i]!, 6));
    await ex.release();
    await expect(FeatureExtractor.create({ ...net, featuresOutput: 'pool3' })).rejects.toThrow(/no output pool3/);
  });
});

describe('referenceCachePath', () => {
  it('does not depend on the order of the preprocessing fields', () => {
    const a = { ...net, preprocess: { channels: 1 as const, mean: [0.5], std: [0.25], pad: 2 } };
    const b = { ...net, preprocess: { pad: 2, std: [0.25], mean: [0.5], channels: 1 as const } };
    const key = { dataset: 'fashion-mnist', split: 'train' };
    expect(referenceCachePath(a, key, 10, '/c')).toBe(referenceCachePath(b, key, 10, '/c'));
    expect(referenceCachePath(a, key, 10, '/c')).not.toBe(referenceCachePath(a, key, 11, '/c'));
    expect(referenceCachePath(a, key, 10, '/c')).toMatch(
      /^\/c\/fid\/aaaaaaaaaaaa-fashion-mnist-train-[0-9a-f]{16}\.npz$/,
    );
  });
});
