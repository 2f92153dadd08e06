// End to end: gradients through the tiny DDIM UNet fixture (float32; checked as in deit.test.ts). GroupNorm is
// exported as Reshape + InstanceNormalization + Reshape + Mul + Add; the decoder's ResBlocks read a skip Concat.

import { describe, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import type { HostTensor } from '../util/host-tensor.js';
import { fixturePath } from '../test-support/fixtures.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import { prepareForward, type GradientOptions } from './prepare.js';
import { expectGrads, randomFeeds } from './test-helpers.js';

const CHECK = { maxCoords: 8, largest: 6, floor: 0.1 };
const t: HostTensor = { dtype: 'int64', dims: [2], data: BigInt64Array.of(10n, 500n) };

async function check(label: string, opts: GradientOptions, eps = 3e-2) {
  const m = readModel(fixturePath('tiny-unet-op17.onnx'));
  const feeds = randomFeeds(prepareForward(m, opts).model, 'float32', 3, {
    ...buildGradientGraph(m, opts).parameters,
    t,
  });
  expectGrads(label, await checkGradients(m, opts, feeds, { ...CHECK, eps }), 1e-2);
}

describe('gradients through the DDIM UNet', () => {
  it('match central differences through an encoder ResBlock (GroupNorm, SiLU, convs, time embedding)', async () => {
    await check('UNet down ResBlock', {
      // Q-Diffusion's loss: squared error summed over channels, averaged over the rest.
      loss: [{ mse: '/block.0/Add_1_output_0', sumAxis: 1 }],
      wrt: ['down.0.block.0.conv1.weight', 'down.0.block.0.conv2.bias', 'onnx::Mul_661', 'onnx::Add_664'],
      inputs: ['/conv_in/Conv_output_0', '/dense.1/Gemm_output_0'],
      dims: { batch: 2 },
    });
  });

  it('match central differences through a decoder ResBlock (skip Concat, 1x1 nin_shortcut)', async () => {
    await check('UNet up ResBlock', {
      loss: [{ mse: '/block.0_2/Add_1_output_0' }],
      wrt: [
        'up.1.block.0.nin_shortcut.weight',
        'up.1.block.0.conv1.weight',
        'up.1.block.0.temb_proj.weight',
        'onnx::Add_687',
      ],
      inputs: ['/block_2/Add_1_output_0', '/attn.0/Add_output_0', '/dense.1/Gemm_output_0'],
      dims: { batch: 2 },
    });
  });

  it('match central differences through the whole UNet (attention, 2x nearest upsample, time MLP)', async () => {
    await check(
      'UNet whole model',
      {
        loss: [{ mse: 'eps' }],
        wrt: ['conv_in.weight', 'up.1.upsample.conv.weight', 'temb.dense.0.weight'],
        dims: { batch: 2 },
      },
      1e-2,
    ); // a smaller step through the whole model, as in deit.test.ts
  });
});
