import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readModel } from '../onnx/io/index.js';
import { readNpz } from '../data/npz.js';
import { fixturePath } from '../test-support/fixtures.js';
import type { HostTensor } from '../util/host-tensor.js';
import { DEFAULT_SCHEDULE } from './schedule.js';
import { DiffusionSampler, type SamplerConfig, type StepEvent } from './sampler.js';
import type { NoiseSource } from './noise.js';

const unet = readModel(fixturePath('tiny-unet-op17.onnx'));
const ref = readNpz(fileURLToPath(new URL('./testdata/ddim-reference.npz', import.meta.url)));
const arr = (k: string) => ref.get(k)!.data as Float32Array;

function config(sampler: 'ddim' | 'ddpm', skip: 'quad' | 'uniform', eta = 0, steps = 10): SamplerConfig {
  return { sampler, steps, skip, eta, schedule: DEFAULT_SCHEDULE };
}

/** Noise read from the committed reference (the per-step z PyTorch drew). */
function committedNoise(name: string): NoiseSource {
  const z = ref.has(`${name}_noise`) ? arr(`${name}_noise`) : undefined;
  return (slot, first, count, size, out) => {
    if (slot.kind !== 'step' || z === undefined) throw new Error(`unexpected noise request ${JSON.stringify(slot)}`);
    out.set(z.subarray((slot.step * 2 + first) * size, (slot.step * 2 + first + count) * size));
  };
}

describe('sampler vs the PyTorch reference (tools/ddim_reference.py)', () => {
  const cases = [
    ['ddim_quad', config('ddim', 'quad')],
    ['ddim_uniform', config('ddim', 'uniform')],
    ['ddim_eta', config('ddim', 'quad', 0.5)],
    ['ddpm', config('ddpm', 'uniform')],
  ] as const;
  for (const [name, cfg] of cases) {
    it(`${name}: every step within 1e-4`, async () => {
      const sampler = await DiffusionSampler.create(unet, cfg, { noise: committedNoise(name), threads: 1 });
      const traj = arr(`${name}_traj`);
      const ts = ref.get(`${name}_t`)!.data as BigInt64Array;
      const size = 2 * 64;
      const errors: number[] = [];
      const seen: number[] = [];
      const onStep = (e: StepEvent) => {
        seen.push(e.t);
        const want = traj.subarray(e.step * size, (e.step + 1) * size);
        errors.push(maxAbs(e.x, want));
      };
      const x0 = await sampler.sampleBatch(0, 2, { initial: arr('x_T'), onStep });
      await sampler.release();
      const final = maxAbs(x0, traj.subarray(10 * size, 11 * size));
      expect(seen).toEqual(Array.from(ts, Number));
      expect(Math.max(...errors)).toBeLessThanOrEqual(1e-4);
      expect(final).toBeLessThanOrEqual(1e-4);
    });
  }
});

function maxAbs(a: HostTensor, b: Float32Array): number {
  const x = a.data as Float32Array;
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(x[i]! - b[i]!));
  return m;
}
