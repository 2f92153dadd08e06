import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { fixturePath } from '../test-support/fixtures.js';
import { planQuantization } from './plan.js';
import { defaultRecipe } from './recipe.js';

describe('planQuantization', () => {
  it('marks every weight with its output-channel axis and every activation input of MatMul/Gemm/Conv', () => {
    const model = readModel(fixturePath('tiny-deit-op17.onnx'));
    const plan = planQuantization(model, defaultRecipe(4, 4));
    const g = model.graph;
    const weights = plan.targets.filter((t) => t.role === 'weight');
    const acts = plan.targets.filter((t) => t.role === 'activation');
    // depth 2: qkv, proj, fc1, fc2 per block + patch conv + head
    expect(weights).toHaveLength(10);
    for (const w of weights) {
      const node = g.nodes.find((n) => n.name === w.uses[0]!.node)!;
      const rank = g.initializers.get(w.tensor)!.dims.length;
      if (node.opType === 'Conv') expect(w.axis).toBe(0);
      if (node.opType === 'MatMul') expect(w.axis).toBe(rank - 1);
      if (node.opType === 'Gemm') expect(w.axis).toBe(node.intAttr('transB', 0) === 1 ? 0 : 1);
    }
    // Both operands of q@kᵀ and attn@v are activations, tagged as attention.
    expect(acts.filter((t) => t.tags.includes('attention'))).toHaveLength(8);
    expect(acts.some((t) => t.tensor === 'pixel_values')).toBe(true);
    // A tensor read by several quantized ops gets one quantizer with several uses.
    expect(plan.targets.map((t) => t.key)).toEqual([...new Set(plan.targets.map((t) => t.key))]);
  });

  it('refuses opsets outside 13-21 with a hint', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2]);
    b.output(b.op('Relu', [x]));
    expect(() => planQuantization(makeModel(b.graph, 11), defaultRecipe(8, 8))).toThrow(
      /opsets 13 to 21; this model is opset 11/,
    );
  });

  it('leaves a class in float at 32 bits', () => {
    const model = readModel(fixturePath('tiny-deit-op17.onnx'));
    expect(planQuantization(model, defaultRecipe(32, 8)).targets.every((t) => t.role === 'activation')).toBe(true);
    expect(planQuantization(model, defaultRecipe(8, 32)).targets.every((t) => t.role === 'weight')).toBe(true);
  });
});
