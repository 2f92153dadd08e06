import { describe, expect, it } from 'vitest';
import * as ql from './index.js';
import { fixturePath } from './test-support/fixtures.js';

describe('public API', () => {
  it('reads, plans, calibrates weights and simulates a model through the package entry point', () => {
    const model = ql.readModel(fixturePath('tiny-deit-op17.onnx'));
    expect(ql.summarizeModel(model).params).toBeGreaterThan(0);
    const plan = ql.planQuantization(model, ql.defaultRecipe(8, 32));
    ql.calibrateWeights(model, plan);
    const sim = ql.applyFakeQuant(model, plan);
    expect(sim.graph.nodes.length).toBeGreaterThan(0);
    expect(ql.methodNames()).toContain('minmax');
    expect(typeof ql.onnx.GraphBuilder).toBe('function');
    expect(typeof ql.diffusion.DiffusionSampler).toBe('function');
  });
});
