// Unit lists of the fixtures (q-diffusion.md §3.3): the DDIM UNet's ResnetBlocks/AttnBlocks and single layers in the
// reference's registration order (decoder levels reversed, §9.1), the same on both opsets and after shortcut
// splitting; ViT and Swin transformer blocks; and a residual that is not single-entry single-exit falling back to
// layer units with the reason.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { readModel } from '../../onnx/io/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { splitShortcuts } from '../q-diffusion/shortcut-split.js';
import { findUnits, type UnitList } from './units.js';

const load = (name: string) => readModel(fixturePath(`${name}.onnx`));
const ids = (l: UnitList) => l.units.map((u) => u.id);
const counts = (l: UnitList) => ({
  blocks: l.units.filter((u) => u.kind === 'block').length,
  layers: l.units.filter((u) => u.kind === 'layer').length,
});

const UNET_REFERENCE = [
  'temb.dense.0',
  'temb.dense.1',
  'conv_in',
  'down.0.block.0',
  'down.0.downsample.conv',
  'down.1.block.0',
  'down.1.attn.0',
  'mid.block_1',
  'mid.attn_1',
  'mid.block_2',
  'up.0.block.0',
  'up.0.block.1',
  'up.1.block.0',
  'up.1.block.1',
  'up.1.attn.0',
  'up.1.attn.1',
  'up.1.upsample.conv',
  'conv_out',
];

const UNET_EXECUTION = [
  ...UNET_REFERENCE.slice(0, 10),
  'up.1.block.0',
  'up.1.attn.0',
  'up.1.block.1',
  'up.1.attn.1',
  'up.1.upsample.conv',
  'up.0.block.0',
  'up.0.block.1',
  'conv_out',
];

describe.each(['tiny-unet-op17', 'tiny-unet-op13'])('%s', (name) => {
  const model = load(name);
  const ref = findUnits(model);

  it('has 12 blocks and 6 layers in the reference walk order, labelled by parameter paths', () => {
    expect(ids(ref)).toEqual(UNET_REFERENCE);
    expect(counts(ref)).toEqual({ blocks: 12, layers: 6 });
    expect(ref.units.every((u) => u.labelSource === 'parameters')).toBe(true);
    expect(ref.fallbacks).toEqual([]);
    expect(ids(findUnits(model, { order: 'execution' }))).toEqual(UNET_EXECUTION);
  });

  it('gives every ResnetBlock the inputs x and temb, with SiLU(temb) -> temb_proj inside', () => {
    const temb = ref.units.find((u) => u.id === 'temb.dense.1')!.exit;
    for (const u of ref.units.filter((u) => /block/.test(u.id))) {
      expect(u.entries).toHaveLength(2);
      expect(u.entries[1]).toBe(temb);
      expect(u.layers.filter((l) => /temb_proj/.test(l))).toHaveLength(1);
      // the one SiLU of temb that torch shares between all blocks: copied into each
      expect(u.shared.map((n) => model.graph.nodes.find((x) => x.name === n)!.opType).sort()).toEqual([
        'Mul',
        'Sigmoid',
      ]);
    }
    const down0 = ref.units.find((u) => u.id === 'down.0.block.0')!;
    expect(down0.entries[0]).toBe(ref.units.find((u) => u.id === 'conv_in')!.exit);
    expect(down0.layers).toHaveLength(3); // conv1, temb_proj, conv2 (no nin_shortcut: 8 -> 8 channels)
    const attn = ref.units.find((u) => u.id === 'mid.attn_1')!;
    expect(attn).toMatchObject({ kind: 'block', entries: [ref.units.find((u) => u.id === 'mid.block_1')!.exit] });
    expect([attn.layers.length, attn.matmuls.length]).toEqual([4, 2]);
  });

  it('keeps the decoder blocks whole after shortcut splitting (both Concat inputs become entries)', () => {
    const split = load(name);
    const { splits } = splitShortcuts(split.graph);
    expect(splits).toHaveLength(4);
    const l = findUnits(split);
    expect(ids(l)).toEqual(UNET_REFERENCE);
    const up = l.units.filter((u) => /^up\.\d\.block/.test(u.id));
    for (const u of up) expect([u.entries.length, u.layers.length]).toEqual([3, 5]);
    expect(ids(findUnits(split, { splits }))).toEqual(UNET_REFERENCE);
  });
});

describe.each(['tiny-deit-op17', 'tiny-deit-op13'])('%s', (name) => {
  it('has one block per transformer block (attention + MLP residuals) and the patch embedding and head', () => {
    const l = findUnits(load(name));
    expect(ids(l)).toEqual(['patch_embed.proj', 'blocks.0', 'blocks.1', 'head']);
    for (const b of l.units.filter((u) => u.kind === 'block'))
      expect([b.entries.length, b.layers.length, b.matmuls.length]).toEqual([1, 4, 2]);
    const split = findUnits(load(name), { mergeTransformerBlocks: false });
    expect(ids(split)).toEqual(['patch_embed.proj', 'blocks.0', 'blocks.0#2', 'blocks.1', 'blocks.1#2', 'head']);
  });
});

describe('tiny-swin-op17', () => {
  it('has four shifted/unshifted window blocks and three layers', () => {
    const l = findUnits(load('tiny-swin-op17'));
    expect(ids(l)).toEqual([
      'patch_embed.proj',
      'layers.0.blocks.0',
      'layers.0.blocks.1',
      'layers.0.downsample.reduction',
      'layers.1.blocks.0',
      'layers.1.blocks.1',
      'head',
    ]);
    expect(counts(l)).toEqual({ blocks: 4, layers: 3 });
    // its weight is onnx::MatMul_* and it has no bias: labelled from the node name
    expect(l.units[3]!.labelSource).toBe('node-names');
  });
});

describe('a residual that is not single-entry single-exit', () => {
  it('falls back to layer units and says why', () => {
    const b = new GraphBuilder();
    const w = (n: string) =>
      b.init(
        n,
        Float32Array.from({ length: 16 }, (_, i) => ((i * 7) % 5) / 10 - 0.2),
        [4, 4, 1, 1],
      );
    const x = b.input('x', 'float32', ['n', 4, 2, 2]);
    const r = b.op('Relu', [b.op('Conv', [x, w('c1.weight')], {}, { name: 'c1' })], {}, { name: 'relu' });
    const a = b.op('Add', [x, b.op('Conv', [r, w('c2.weight')], {}, { name: 'c2' })], {}, { name: 'residual' });
    b.output(b.op('Conv', [a, w('c3.weight')], {}, { name: 'c3' }), 'float32');
    // The block's inner activation also leaves it: the region from x to the Add has two exits.
    b.output(b.op('Conv', [r, w('tap.weight')], {}, { name: 'tap' }), 'float32');
    const l = findUnits(makeModel(b.graph, 17));
    expect(l.units.map((u) => [u.id, u.kind])).toEqual([
      ['c1', 'layer'],
      ['c2', 'layer'],
      ['c3', 'layer'],
      ['tap', 'layer'],
    ]);
    expect(l.fallbacks).toEqual([
      {
        add: 'residual',
        reason: `internal value ${r} is also read by tap (Conv) outside the region`,
        layers: ['c1', 'c2'],
      },
    ]);
    expect(l.units[0]!.note).toMatch(/residual region ending at residual, which is not single-entry single-exit/);
    expect(l.units[2]!.note).toBeUndefined();
  });
});
