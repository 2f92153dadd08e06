// Activation step-size learning on one unit of the tiny UNet (W4A4, so the step sizes matter): the L_2.4 loss of
// the unit with the learned step sizes is below that with the initial (min-max) ones, only activation step sizes
// change (zero-points and weights stay), and the plan carries the learned values.

import { describe, expect, it } from 'vitest';
import { readModel } from '../../onnx/io/index.js';
import { planQuantization } from '../../quant/plan.js';
import type { UniformParams } from '../../quant/qparams.js';
import { defaultRecipe } from '../../quant/recipe.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { tinyUNetFeeds } from '../../test-support/tiny-unet-feeds.js';
import { calibrateActivations, calibrateWeights } from '../calibrate.js';
import { learnActivationSteps } from './lsq.js';

describe('learnActivationSteps', () => {
  it('lowers the unit loss by changing only activation step sizes', async () => {
    const model = readModel(fixturePath('tiny-unet-op17.onnx'));
    const plan = planQuantization(model, defaultRecipe(4, 4));
    calibrateWeights(model, plan);
    const feeds = [tinyUNetFeeds(16, 1), tinyUNetFeeds(16, 2)];
    await calibrateActivations(model, plan, feeds, { threads: 1 });
    const before = plan.targets.map((t) => JSON.stringify(t.params));
    const r = await learnActivationSteps(model, plan, () => feeds, {
      only: ['down.1.block.0'],
      iterations: 60,
      batch: 16,
      threads: 1,
    });
    expect(r.units).toHaveLength(1);
    const u = r.units[0]!;
    expect(u.quantizers).toBeGreaterThan(0);
    expect(u.lossAfter).toBeLessThan(u.lossBefore);
    expect(u.rejected).toEqual([]);
    expect(r.settings.batch).toBe(16);
    const changed = plan.targets.filter((t, i) => JSON.stringify(t.params) !== before[i]);
    expect(changed.length).toBeGreaterThan(0);
    for (const t of changed) {
      expect(t.role).toBe('activation');
      const old = JSON.parse(before[plan.targets.indexOf(t)]!) as UniformParams;
      expect((t.params as UniformParams).zeroPoint).toEqual(old.zeroPoint);
    }
  });

  it('records the batch actually used (capped at the cached samples)', async () => {
    const model = readModel(fixturePath('tiny-unet-op17.onnx'));
    const plan = planQuantization(model, defaultRecipe(4, 4));
    calibrateWeights(model, plan);
    const feeds = [tinyUNetFeeds(4, 1)];
    await calibrateActivations(model, plan, feeds, { threads: 1 });
    const r = await learnActivationSteps(model, plan, () => feeds, {
      only: ['down.1.block.0'],
      iterations: 0,
      batch: 32,
      threads: 1,
    });
    expect(r.settings.batch).toBe(4);
  });
});
