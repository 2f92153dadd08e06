// Sequential calibration reproduces the official code's single lazily-initialising forward pass: every quantizer's
// parameters are what its observer gives on its input as the finished simulated model computes it (all upstream
// quantizers applied), and the two ways of running it agree exactly.

import { describe, expect, it } from 'vitest';
import { readModel } from '../../onnx/io/index.js';
import { applyFakeQuant } from '../../quant/fake-quant.js';
import { Prober } from '../../runtime/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { seededImages } from '../../test-support/repq-vit.js';
import { calibrateWeights, observerFor } from '../calibrate.js';
import { findPostLnPairs } from './post-ln-pairs.js';
import { calibrateSequential, joinBatches } from './sequential.js';
import { planRepq } from './targets.js';

async function calibrated(name: string, strategy: 'sliced' | 'switched') {
  const model = readModel(fixturePath(`${name}.onnx`));
  model.graph.topoSort();
  const plan = planRepq(
    model,
    { wBits: 4, aBits: 4, postLn: 'channel', postSoftmax: 'logsqrt2', roundZeroPoint: false },
    findPostLnPairs(model.graph).pairs,
  );
  calibrateWeights(model, plan);
  const batch = seededImages(model, 8);
  const stats = await calibrateSequential(model, plan, batch, { threads: 1, strategy });
  return { model, plan, batch, stats };
}

describe('calibrateSequential', () => {
  it('gives every quantizer the parameters of its input in the finished simulation (tiny-deit-op13)', async () => {
    const { model, plan, batch, stats } = await calibrated('tiny-deit-op13', 'sliced');
    // conv input, 6 levels per block (qkv input; q, k, v; softmax; proj; fc1; fc2), head input
    expect(stats).toMatchObject({ strategy: 'sliced', levels: 14, sessions: 14, calibrated: 18 });
    const acts = plan.targets.filter((t) => t.role === 'activation');
    const sim = applyFakeQuant(model, plan);
    const prober = await Prober.create(sim, [...new Set(acts.map((t) => t.tensor))], { threads: 1 });
    const got = await prober.run(batch);
    await prober.release();
    for (const t of acts) {
      const v = got.get(t.tensor)!;
      const obs = observerFor(t);
      obs.observe(v.data as Float32Array, v.dims);
      expect(obs.compute(), t.key).toEqual(t.params);
    }
    // Post-LN inputs per channel on the last axis, the others per tensor.
    expect(acts.filter((t) => t.params?.kind === 'uniform' && t.params.axis === 2)).toHaveLength(4);
  });

  it('one switched session and per-level slices give the same parameters (tiny-swin-op13)', async () => {
    const a = await calibrated('tiny-swin-op13', 'sliced');
    const b = await calibrated('tiny-swin-op13', 'switched');
    expect(b.stats.sessions).toBe(1);
    expect(a.stats.sessions).toBe(a.stats.levels);
    expect(a.stats.levels).toBe(b.stats.levels);
    expect(a.plan.targets.map((t) => t.params)).toEqual(b.plan.targets.map((t) => t.params));
  });

  it('joins calibration batches into one', async () => {
    const f = (v: number[]) => ({ x: { dtype: 'float32' as const, dims: [v.length, 1], data: Float32Array.from(v) } });
    const joined = await joinBatches([f([1, 2]), f([3])]);
    expect(joined.x!.dims).toEqual([3, 1]);
    expect(Array.from(joined.x!.data as Float32Array)).toEqual([1, 2, 3]);
  });
});
