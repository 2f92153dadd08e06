// End to end: gradients through the tiny DeiT fixture (float32, so checked against central differences of a
// float64 loss on the coordinates with the largest gradients plus random ones, relative to the gradient's scale).

import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import type { Model } from '../onnx/ir.js';
import { fixturePath } from '../test-support/fixtures.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import { prepareForward, type GradientOptions } from './prepare.js';
import { GradientRunner } from './runner.js';
import { Adam } from './adam.js';
import { expectGrads, randomFeeds } from './test-helpers.js';

const weightOf = (m: Model, node: string, i: number) => m.graph.nodes.find((n) => n.name === node)!.inputs[i]!;
const CHECK = { maxCoords: 8, largest: 6, floor: 0.1, eps: 3e-2 };

/** Block 1 of the two, cut at its input: MSE of its output w.r.t. weights of every kind it has. */
function blockOptions(m: Model): GradientOptions {
  return {
    wrt: [
      weightOf(m, '/blocks.1/attn/qkv/MatMul', 1),
      'blocks.1.attn.proj.bias',
      'blocks.1.norm1.weight',
      'blocks.1.norm2.bias',
      weightOf(m, '/blocks.1/mlp/fc2/MatMul', 1),
    ],
    loss: [{ mse: '/blocks.1/Add_1_output_0' }],
    inputs: ['/blocks.0/Add_1_output_0'],
    dims: { batch: 2 },
  };
}

function gradientsOf(file: string) {
  const m = readModel(fixturePath(file));
  const opts = blockOptions(m);
  const feeds = randomFeeds(prepareForward(m, opts).model, 'float32', 3, buildGradientGraph(m, opts).parameters);
  return { m, opts, feeds };
}

describe('gradients through a DeiT transformer block', () => {
  it('match central differences (opset 17: one LayerNormalization op)', async () => {
    const { m, opts, feeds } = gradientsOf('tiny-deit-op17.onnx');
    const gg = buildGradientGraph(m, opts);
    // The block is cut at its input, so the forward is the block alone.
    expect(gg.inputs).toContain('/blocks.0/Add_1_output_0');
    expect(gg.model.graph.nodes.some((n) => n.name.startsWith('/blocks.0/'))).toBe(false);
    expectGrads('DeiT block (op17)', await checkGradients(m, opts, feeds, CHECK), 1e-2);
  });

  it('match central differences and the opset-17 gradients at opset 13 (decomposed LayerNorm)', async () => {
    const a = gradientsOf('tiny-deit-op13.onnx');
    expectGrads('DeiT block (op13)', await checkGradients(a.m, a.opts, a.feeds, CHECK), 1e-2);
    const b = gradientsOf('tiny-deit-op17.onnx');
    const run = async (x: typeof a) => {
      const runner = await GradientRunner.create(buildGradientGraph(x.m, x.opts), { threads: 1 });
      const step = await runner.run(x.feeds);
      await runner.release();
      return step;
    };
    const [s13, s17] = [await run(a), await run(b)];
    expect(s13.loss).toBeCloseTo(s17.loss, 5);
    a.opts.wrt.forEach((w, i) => {
      const [g13, g17] = [s13.grads[w]!, s17.grads[b.opts.wrt[i]!]!];
      let scale = 0;
      for (const v of g17) scale = Math.max(scale, Math.abs(v));
      g17.forEach((v, j) => expect(Math.abs(g13[j]! - v)).toBeLessThan(1e-4 * scale));
    });
  });

  it('match central differences through the whole model (patch Conv, cls token, head Gemm)', async () => {
    const m = readModel(fixturePath('tiny-deit-op17.onnx'));
    const opts: GradientOptions = {
      wrt: ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'head.weight'],
      loss: [{ mse: 'logits' }],
      dims: { batch: 2 },
    };
    const feeds = randomFeeds(prepareForward(m, opts).model, 'float32', 5, buildGradientGraph(m, opts).parameters);
    // Through the whole model a step of 3e-2 is in the curvature (its error falls 9x at 1e-2, as a central
    // difference's should); 1e-2 is still far above the float64 loss's noise.
    expectGrads('DeiT whole model', await checkGradients(m, opts, feeds, { ...CHECK, eps: 1e-2 }), 1e-2);
  });

  it('lower the block reconstruction loss when Adam follows them (one ORT run per iteration)', async () => {
    const { m, opts, feeds } = gradientsOf('tiny-deit-op17.onnx');
    const gg = buildGradientGraph(m, opts);
    const runner = await GradientRunner.create(gg, { threads: 1 });
    const params = Object.fromEntries(Object.entries(gg.parameters).map(([k, t]) => [k, t.data as Float32Array]));
    const adam = new Adam(params, { lr: 1e-2 });
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const step = await runner.run({ ...feeds, ...gg.parameters });
      losses.push(step.loss);
      adam.step(step.grads);
    }
    await runner.release();
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
  });
});
