// End to end: gradients through the tiny Swin fixture (float32; checked as in deit.test.ts): the shifted-window
// block (torch.roll as Slice/Concat, window partition, the -100 mask Add) and patch merging (strided Slices).

import { describe, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import { fixturePath } from '../test-support/fixtures.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import { prepareForward, type GradientOptions } from './prepare.js';
import { expectGrads, randomFeeds } from './test-helpers.js';

const model = readModel(fixturePath('tiny-swin-op17.onnx'));
const weightOf = (node: string) => model.graph.nodes.find((n) => n.name === node)!.inputs[1]!;

async function check(label: string, opts: GradientOptions) {
  const feeds = randomFeeds(
    prepareForward(model, opts).model,
    'float32',
    5,
    buildGradientGraph(model, opts).parameters,
  );
  const entries = await checkGradients(model, opts, feeds, { maxCoords: 8, largest: 6, floor: 0.1, eps: 1e-2 });
  expectGrads(label, entries, 1e-2);
}

describe('gradients through a Swin transformer', () => {
  it('match central differences through the shifted-window block', async () => {
    await check('Swin shifted-window block', {
      loss: [{ mse: '/layers.0/blocks.1/Add_1_output_0' }],
      inputs: ['/layers.0/blocks.0/Add_1_output_0'],
      wrt: [
        'layers.0.blocks.1.norm1.weight',
        weightOf('/layers.0/blocks.1/attn/qkv/MatMul'),
        'layers.0.blocks.1.attn.proj.bias',
      ],
      dims: { batch: 2 },
    });
  });

  it('match central differences through patch merging and the head', async () => {
    await check('Swin whole model', {
      loss: [{ mse: 'logits' }],
      wrt: [
        'patch_embed.proj.weight',
        'layers.0.downsample.norm.weight',
        weightOf('/layers.0/downsample/reduction/MatMul'),
      ],
      dims: { batch: 2 },
    });
  });
});
