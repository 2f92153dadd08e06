import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../onnx/io/index.js';
import { encodeNpz } from '../data/npz.js';
import { tensorDataset } from '../data/tensor-dataset.js';
import { bindFeeds, modelInputs } from '../runtime/index.js';
import { fixturePath } from '../test-support/fixtures.js';
import { buildCalibrationSet, selectSteps } from './calib-set.js';
import { BatchCheckpoint } from './checkpoint.js';
import { DEFAULT_SCHEDULE } from './schedule.js';
import { DiffusionSampler, type SamplerConfig } from './sampler.js';

const unet = readModel(fixturePath('tiny-unet-op17.onnx'));
const cfg: SamplerConfig = { sampler: 'ddim', steps: 10, skip: 'quad', eta: 0, schedule: DEFAULT_SCHEDULE };

describe('selectSteps', () => {
  it('uniform is range(0, nsteps, nsteps // kept), as the official get_train_samples', () => {
    expect(selectSteps(100, { kept: 20, select: 'uniform' })).toEqual(Array.from({ length: 20 }, (_, i) => 5 * i));
    expect(selectSteps(100, { interval: 5, select: 'uniform' })).toEqual(
      selectSteps(100, { kept: 20, select: 'uniform' }),
    );
    expect(selectSteps(100, { kept: 30, select: 'uniform' }).length).toBe(34); // interval 3: more than 30
    expect(selectSteps(10, { kept: 10, select: 'uniform' })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('first / middle / last: K steps spread over the first, middle or last half', () => {
    const first = selectSteps(100, { kept: 20, select: 'first' });
    const middle = selectSteps(100, { kept: 20, select: 'middle' });
    const last = selectSteps(100, { kept: 20, select: 'last' });
    expect(first).toEqual([0, 2, 5, 7, 10, 12, 15, 17, 20, 22, 25, 27, 30, 32, 35, 37, 40, 42, 45, 47]);
    expect(middle).toEqual(first.map((s) => s + 25));
    expect(last).toEqual(first.map((s) => s + 50));
    // The window is never narrower than K: 9 steps at interval 2 keep 5, more than 9 // 2.
    expect(selectSteps(9, { interval: 2, select: 'last' })).toEqual([4, 5, 6, 7, 8]);
  });

  it('rejects bad selections', () => {
    expect(() => selectSteps(100, { select: 'uniform' })).toThrow(/either --interval/);
    expect(() => selectSteps(100, { kept: 5, interval: 2, select: 'uniform' })).toThrow(/either --interval/);
    expect(() => selectSteps(10, { kept: 11, select: 'uniform' })).toThrow(/--kept/);
    expect(() => selectSteps(10, { interval: 0, select: 'uniform' })).toThrow(/--interval/);
  });
});

describe('buildCalibrationSet', () => {
  it('keeps the UNet inputs of the kept steps, named after the model inputs, ordered by step', async () => {
    const set = await buildCalibrationSet(unet, cfg, { seed: 1, perStep: 3, batch: 2, kept: 5, select: 'uniform' });
    expect(set.steps).toEqual([0, 2, 4, 6, 8]);
    expect(set.timesteps).toEqual([800, 483, 246, 88, 9]);
    expect([...set.arrays.keys()]).toEqual(['x', 't', 'step']);
    expect(set.arrays.get('x')!.dims).toEqual([15, 1, 8, 8]);
    expect(set.arrays.get('t')!.dtype).toBe('int64');
    expect(Array.from(set.arrays.get('t')!.data as BigInt64Array, Number)).toEqual([
      800, 800, 800, 483, 483, 483, 246, 246, 246, 88, 88, 88, 9, 9, 9,
    ]);
    expect(Array.from(set.arrays.get('step')!.data as BigInt64Array, Number)).toEqual([
      0, 0, 0, 2, 2, 2, 4, 4, 4, 6, 6, 6, 8, 8, 8,
    ]);
    // Row k*n + i is trajectory i at kept step k: compare with the sampler's own callback.
    const s = await DiffusionSampler.create(unet, cfg, { seed: 1 });
    const seen = new Map<number, Float32Array>();
    await s.sampleBatch(0, 3, { onStep: (e) => void seen.set(e.step, e.x.data as Float32Array) });
    await s.release();
    const x = set.arrays.get('x')!.data as Float32Array;
    set.steps.forEach((step, k) =>
      expect(Array.from(x.subarray(k * 3 * 64, (k + 1) * 3 * 64))).toEqual(Array.from(seen.get(step)!)),
    );
    // quantize --data binds such a set by name (the extra `step` array is not a model input).
    const ds = tensorDataset(set.arrays, 'calib.npz');
    for await (const b of ds.batches(4))
      expect(Object.keys(bindFeeds(modelInputs(unet), b.inputs))).toEqual(['x', 't']);
  });

  it('resumes an interrupted run to the same bytes', async () => {
    const opts = { seed: 4, perStep: 5, batch: 2, interval: 3, select: 'middle' as const };
    const whole = encodeNpz((await buildCalibrationSet(unet, cfg, opts)).arrays);
    const dir = mkdtempSync(join(tmpdir(), 'ql-calib-'));
    const meta = { kind: 'calib-test' };
    const stop = new Error('killed');
    await expect(
      buildCalibrationSet(unet, cfg, {
        ...opts,
        checkpoint: BatchCheckpoint.open(dir, meta, false),
        onProgress: (done) => {
          if (done === 4) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    const ck = BatchCheckpoint.open(dir, meta, true);
    expect(ck.resumed).toBe(2);
    const resumed = encodeNpz((await buildCalibrationSet(unet, cfg, { ...opts, checkpoint: ck })).arrays);
    expect(Buffer.from(resumed).equals(Buffer.from(whole))).toBe(true);
  });
});
