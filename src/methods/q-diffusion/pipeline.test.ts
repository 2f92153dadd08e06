// The q-diffusion pipeline on a constructed shortcut whose halves differ 10x in range (activations ±1 vs ±10, and the
// weight columns that read them ±1 vs ±0.1, as the paper observes in UNet decoders): each half gets quantizers of
// its own, with its own scales, and the split model's output error is measured against one quantizer over the
// whole Concat. Also: the reconstruction hook is called and recorded, and without one the result says so.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import type { Model } from '../../onnx/ir.js';
import { mulberry32 } from '../../data/calib.js';
import type { Feeds } from '../../runtime/index.js';
import type { UniformParams } from '../../quant/qparams.js';
import { runModel } from '../../test-support/repq-vit.js';
import { QDIFF_DEFAULTS, TAG_SHORTCUT_SPLIT, runQDiffusion, type QDiffusionSettings } from './pipeline.js';

const C = 4;

function shortcutModel(): Model {
  const r = mulberry32(3);
  const b = new GraphBuilder();
  const a = b.input('a', 'float32', ['n', C, 4, 4]);
  const s = b.input('b', 'float32', ['n', C, 4, 4]);
  const cat = b.op('Concat', [a, s], { axis: 1 });
  const w = new Float32Array(6 * 2 * C);
  for (let o = 0; o < 6; o++) for (let i = 0; i < 2 * C; i++) w[o * 2 * C + i] = (r() * 2 - 1) * (i < C ? 1 : 0.1);
  const bias = b.init(
    'conv.bias',
    Float32Array.from({ length: 6 }, () => r() - 0.5),
    [6],
  );
  const y = b.op('Conv', [cat, b.init('conv.weight', w, [6, 2 * C, 1, 1]), bias], {}, { name: 'nin_shortcut' });
  b.output(b.op('Identity', [y], {}, { outputNames: ['y'] }), 'float32');
  return makeModel(b.graph, 17);
}

function feeds(n: number, seed: number): Feeds {
  const r = mulberry32(seed);
  const u = (scale: number) => Float32Array.from({ length: n * C * 16 }, () => (r() * 2 - 1) * scale);
  const dims = [n, C, 4, 4];
  return { a: { dtype: 'float32', dims, data: u(1) }, b: { dtype: 'float32', dims, data: u(10) } };
}

function nmse(got: Float32Array, ref: Float32Array): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    e += (got[i]! - ref[i]!) ** 2;
    s += ref[i]! ** 2;
  }
  return e / s;
}

describe('runQDiffusion', () => {
  const model = shortcutModel();
  const calib = async function* () {
    yield feeds(32, 1);
    yield feeds(32, 2);
  };
  const test = feeds(64, 9);
  const settings = (wBits: number, split: boolean): QDiffusionSettings => ({
    ...QDIFF_DEFAULTS,
    wBits,
    aBits: 8,
    split,
  });

  for (const wBits of [32, 8])
    it(`gives each half its own quantizers, and lowers the error at W${wBits}A8`, async () => {
      const ref = (await runModel(model, test)).y!;
      const split = await runQDiffusion(model, settings(wBits, true), calib, { threads: 1 });
      const single = await runQDiffusion(model, settings(wBits, false), calib, { threads: 1 });
      const tagged = split.plan.targets.filter((t) => t.tags.includes(TAG_SHORTCUT_SPLIT));
      const acts = tagged.filter((t) => t.role === 'activation');
      expect(acts.map((t) => t.tensor)).toEqual(['a', 'b']);
      const [sa, sb] = acts.map((t) => (t.params as UniformParams).scale[0]!);
      expect(sb! / sa!).toBeGreaterThan(8);
      expect(tagged.filter((t) => t.role === 'weight')).toHaveLength(wBits < 32 ? 2 : 0);
      expect(single.plan.targets.filter((t) => t.role === 'activation')).toHaveLength(1);
      const eSplit = nmse((await runModel(split.simulated, test)).y!, ref);
      const eSingle = nmse((await runModel(single.simulated, test)).y!, ref);
      // Measured NMSE (W32A8 / W8A8): split 1.5e-5 / 2.1e-5, one quantizer 9.1e-4 / 1.2e-3 (about 60x).
      expect(eSplit).toBeLessThan(eSingle / 4);
      expect(split.extra).toMatchObject({ qDiffusion: { reconstruction: { applied: false } } });
    });

  it('calls a reconstruction and records what it returns', async () => {
    const calls: string[] = [];
    const r = await runQDiffusion(model, settings(4, true), calib, {
      threads: 1,
      reconstruction: {
        name: 'stub',
        weights: async (ctx) => (calls.push(`w${ctx.splits.length}`), { units: 0 }),
        activations: async (ctx) => (calls.push(`a${ctx.plan.targets.length}`), { iterations: 0 }),
      },
    });
    expect(calls).toEqual(['w1', 'a4']);
    expect(r.extra).toMatchObject({
      qDiffusion: { reconstruction: { applied: true, name: 'stub', weights: { units: 0 }, activations: {} } },
    });
  });

  it('records step-size learning as skipped when activations stay float (A32)', async () => {
    const calls: string[] = [];
    const r = await runQDiffusion(model, { ...settings(4, true), aBits: 32 }, calib, {
      threads: 1,
      reconstruction: {
        name: 'stub',
        weights: async () => ({ units: 0 }),
        activations: async () => (calls.push('a'), {}),
      },
    });
    expect(calls).toEqual([]);
    expect(r.extra).toMatchObject({
      qDiffusion: { reconstruction: { activations: { skipped: true, reason: expect.stringMatching(/a-bits 32/) } } },
    });
  });
});
