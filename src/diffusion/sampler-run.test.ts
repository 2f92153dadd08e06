import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../onnx/io/index.js';
import { fixturePath } from '../test-support/fixtures.js';
import { floatTimeUNet } from '../test-support/diffusion-nets.js';
import type { HostTensor } from '../util/host-tensor.js';
import { BatchCheckpoint } from './checkpoint.js';
import { sampleRun, type RunBatch } from './run.js';
import { DEFAULT_SCHEDULE } from './schedule.js';
import { DiffusionSampler, type SamplerConfig, type StepEvent } from './sampler.js';
import { seededNoise } from './noise.js';
import { unetIO } from './unet-io.js';

const unet = readModel(fixturePath('tiny-unet-op17.onnx'));
const ddim = (steps = 6, eta = 0): SamplerConfig => ({
  sampler: 'ddim',
  steps,
  skip: 'quad',
  eta,
  schedule: DEFAULT_SCHEDULE,
});
const tmp = () => mkdtempSync(join(tmpdir(), 'ql-diff-'));

async function collect(it: AsyncIterable<RunBatch>): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const b of it) parts.push(b.x0.data as Float32Array);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('unetIO', () => {
  it('finds x, t and eps by rank and dtype', () => {
    expect(unetIO(unet)).toEqual({ x: 'x', t: 't', tDtype: 'int64', eps: 'eps', shape: [1, 8, 8] });
    expect(unetIO(floatTimeUNet())).toEqual({
      x: 'sample',
      t: 'timestep',
      tDtype: 'float32',
      eps: 'noise_pred',
      shape: [1, 4, 4],
    });
  });

  it('refuses models that are not noise-prediction UNets', () => {
    expect(() => unetIO(readModel(fixturePath('tiny-deit-op17.onnx')))).toThrow(/exactly 2 inputs/);
  });
});

describe('DiffusionSampler', () => {
  it('is deterministic per seed and independent of the batch size', async () => {
    const a = await collect(sampleRun(unet, ddim(), { seed: 3, samples: 5, batch: 5 }));
    const b = await collect(sampleRun(unet, ddim(), { seed: 3, samples: 5, batch: 5 }));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const c = await collect(sampleRun(unet, ddim(), { seed: 3, samples: 5, batch: 2 }));
    expect(maxDiff(a, c)).toBeLessThan(1e-4); // same noise; only ORT's batch-size-dependent rounding differs
    const d = await collect(sampleRun(unet, ddim(), { seed: 4, samples: 5, batch: 5 }));
    expect(maxDiff(a, d)).toBeGreaterThan(0.1);
  });

  it('calls back every step with t, x_t and eps; x_T is the seeded noise; lastStep stops early', async () => {
    const s = await DiffusionSampler.create(unet, ddim(), { seed: 9 });
    const events: StepEvent[] = [];
    await s.sampleBatch(4, 2, { onStep: (e) => void events.push(e) });
    expect(events.map((e) => e.t)).toEqual([800, 512, 288, 128, 32, 0]);
    expect(events.map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events.every((e) => e.first === 4 && e.steps === 6 && e.eps.dims.join() === '2,1,8,8')).toBe(true);
    expect(Array.from(events[2]!.tInput.data as BigInt64Array)).toEqual([288n, 288n]);
    const want = new Float32Array(2 * 64);
    seededNoise(9)({ kind: 'initial' }, 4, 2, 64, want);
    expect(Array.from(events[0]!.x.data as Float32Array)).toEqual(Array.from(want));
    const partial = await s.sampleBatch(4, 2, { lastStep: 2 });
    expect(Array.from(partial.data as Float32Array)).toEqual(Array.from(events[2]!.x.data as Float32Array));
    await s.release();
  });

  it('runs DDPM and DDIM with eta > 0 (stochastic, seeded)', async () => {
    const ddpm: SamplerConfig = { sampler: 'ddpm', steps: 20, skip: 'uniform', eta: 0, schedule: DEFAULT_SCHEDULE };
    const a = await collect(sampleRun(unet, ddpm, { seed: 1, samples: 3, batch: 3 }));
    const b = await collect(sampleRun(unet, ddpm, { seed: 1, samples: 3, batch: 3 }));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a.every((v) => Number.isFinite(v))).toBe(true);
    const eta0 = await collect(sampleRun(unet, ddim(6, 0), { seed: 1, samples: 2, batch: 2 }));
    const eta1 = await collect(sampleRun(unet, ddim(6, 1), { seed: 1, samples: 2, batch: 2 }));
    expect(maxDiff(eta0, eta1)).toBeGreaterThan(1e-3);
  });

  it('feeds a float32 time step to models that take one', async () => {
    const cfg: SamplerConfig = { ...ddim(4), skip: 'uniform' };
    const s = await DiffusionSampler.create(floatTimeUNet(), cfg, { seed: 0 });
    const ts: HostTensor[] = [];
    const x0 = await s.sampleBatch(0, 3, { onStep: (e) => void ts.push(e.tInput) });
    await s.release();
    expect(ts.map((t) => [t.dtype, (t.data as Float32Array)[2]])).toEqual([
      ['float32', 750],
      ['float32', 500],
      ['float32', 250],
      ['float32', 0],
    ]);
    expect(x0.dims).toEqual([3, 1, 4, 4]);
  });
});

describe('resumable runs', () => {
  it('continues from the checkpoint with the same bytes as an uninterrupted run', async () => {
    const opts = { seed: 2, samples: 5, batch: 2 };
    const full = await collect(sampleRun(unet, ddim(), opts));
    const dir = tmp();
    const meta = { kind: 'test', seed: 2 };
    let ck = BatchCheckpoint.open(dir, meta, false);
    const stop = new Error('interrupted');
    await expect(
      collect(
        sampleRun(unet, ddim(), {
          ...opts,
          checkpoint: ck,
          onProgress: (done) => {
            if (done >= 4) throw stop;
          },
        }),
      ),
    ).rejects.toBe(stop);
    ck = BatchCheckpoint.open(dir, meta, true);
    expect(ck.resumed).toBe(2);
    let computed = 0;
    const parts: RunBatch[] = [];
    for await (const b of sampleRun(unet, ddim(), { ...opts, checkpoint: ck })) {
      parts.push(b);
      if (b.seconds > 0) computed++;
    }
    expect(computed).toBe(1);
    const resumed = new Float32Array(full.length);
    for (const b of parts) resumed.set(b.x0.data as Float32Array, b.first * 64);
    expect(Buffer.from(resumed.buffer).equals(Buffer.from(full.buffer))).toBe(true);
    expect(() => BatchCheckpoint.open(dir, { kind: 'test', seed: 3 }, true)).toThrow(
      /another run \(seed: 2 there, 3 now\)/,
    );
    ck.remove();
  });
});
