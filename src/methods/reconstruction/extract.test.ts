// Every unit of every fixture, extracted and run alone on the full model's probed entries, reproduces the probed
// exit: in float, and with the same W4A8 quantizers applied to the full model and (restricted) to the unit.
// Measured max relative errors: FP ≤ 5e-7 (ORT optimizations on for the unit, off in the probe); W4A8 exactly 0
// with optimizations off in both (fused kernels could flip a rounding, so the comparison keeps them off).

import { describe, expect, it } from 'vitest';
import { readModel } from '../../onnx/io/index.js';
import type { Model } from '../../onnx/ir.js';
import { applyFakeQuant } from '../../quant/fake-quant.js';
import { planQuantization, type QuantPlan } from '../../quant/plan.js';
import { defaultRecipe } from '../../quant/recipe.js';
import { Prober, Session, type Feeds } from '../../runtime/index.js';
import { fixturePath, loadReference } from '../../test-support/fixtures.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { calibrateActivations, calibrateWeights } from '../calibrate.js';
import { splitShortcuts } from '../q-diffusion/shortcut-split.js';
import { isQuantlensError } from '../../errors.js';
import { extractUnit, restrictPlan, typesFromTensors } from './extract.js';
import { findUnits, type ReconstructionUnit } from './units.js';

function relativeError(got: HostTensor, want: HostTensor): number {
  const a = got.data as Float32Array;
  const b = want.data as Float32Array;
  if (a.length !== b.length) return Infinity;
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

async function worstError(
  full: Model,
  float: Model,
  units: readonly ReconstructionUnit[],
  feeds: Feeds,
  plan?: QuantPlan,
): Promise<number> {
  const names = [...new Set(units.flatMap((u) => [...u.entries, u.exit]))];
  const prober = await Prober.create(full, names, { threads: 1 });
  const probed = await prober.run(feeds);
  await prober.release();
  const types = typesFromTensors(probed);
  let worst = 0;
  for (const u of units) {
    const fp = extractUnit(float, u, { types });
    const unit = plan === undefined ? fp : applyFakeQuant(fp, restrictPlan(plan, fp));
    const s = await Session.create(unit, { threads: 1, optimize: plan === undefined });
    const out = await s.run(Object.fromEntries(u.entries.map((e) => [e, probed.get(e)!])));
    await s.release();
    expect(out[u.exit]!.dims, u.id).toEqual(probed.get(u.exit)!.dims);
    worst = Math.max(worst, relativeError(out[u.exit]!, probed.get(u.exit)!));
  }
  return worst;
}

const FIXTURES = ['tiny-unet-op17', 'tiny-unet-op13', 'tiny-deit-op17', 'tiny-deit-op13', 'tiny-swin-op17'];

describe.each(FIXTURES)('%s units extracted', (name) => {
  const model = readModel(fixturePath(`${name}.onnx`));
  const feeds = loadReference(`${name}.ref.json`).inputs;
  const { units } = findUnits(model);

  it('reproduce the full model in float', async () => {
    expect(await worstError(model, model, units, feeds)).toBeLessThanOrEqual(1e-5);
  });

  it('reproduce the full model with the same W4A8 quantizers', async () => {
    const plan = planQuantization(model, defaultRecipe(4, 8));
    calibrateWeights(model, plan);
    await calibrateActivations(model, plan, [feeds], { threads: 1 });
    expect(await worstError(applyFakeQuant(model, plan), model, units, feeds, plan)).toBeLessThanOrEqual(1e-5);
  });
});

describe('extractUnit', () => {
  const model = readModel(fixturePath('tiny-unet-op17.onnx'));
  const { units } = findUnits(model);
  const block = units.find((u) => u.id === 'down.1.block.0')!;

  it('makes a model of the entries, the exit and what the unit reads, with constants folded', () => {
    const m = extractUnit(model, block, {
      types: new Map([[block.exit, { dtype: 'float32', shape: ['b', 16, 4, 4] }]]),
    });
    const g = m.graph;
    expect(g.inputs.map((i) => i.name)).toEqual(block.entries);
    expect(g.outputs).toEqual([{ name: block.exit, type: { dtype: 'float32', shape: ['b', 16, 4, 4] } }]);
    expect(g.nodes.some((n) => n.opType === 'Constant')).toBe(false);
    expect(g.nodes.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm').map((n) => n.name)).toEqual(block.layers);
    expect([...g.initializers.keys()].filter((k) => k.startsWith('down.1.block.0.')).sort()).toEqual(
      ['conv1', 'conv2', 'nin_shortcut', 'temb_proj'].flatMap((l) =>
        [`${l}.bias`, `${l}.weight`].map((p) => `down.1.block.0.${p}`),
      ),
    );
    expect(model.graph.nodes).toHaveLength(420); // the full model is left as it was
  });

  it('extracts the decoder blocks of a shortcut-split model (three entries) exactly', async () => {
    const split = readModel(fixturePath('tiny-unet-op17.onnx'));
    splitShortcuts(split.graph);
    const up = findUnits(split).units.filter((u) => /^up\.\d\.block/.test(u.id));
    const feeds = loadReference('tiny-unet-op17.ref.json').inputs;
    expect(await worstError(split, split, up, feeds)).toBeLessThanOrEqual(1e-5);
  });

  it('names the value a malformed unit reads from outside', () => {
    const bad = { ...block, entries: [block.entries[0]!] };
    const err = (() => {
      try {
        return extractUnit(model, bad);
      } catch (e) {
        return e;
      }
    })();
    expect(isQuantlensError(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /^unit down.1.block.0: node \S+ \(\w+\) reads \/dense.1\/Gemm_output_0, which is neither an entry/,
    );
  });

  it('restricts a full-model plan to the unit (a shared quantizer keeps only its uses there)', () => {
    const plan = planQuantization(model, defaultRecipe(8, 8));
    const unit = extractUnit(model, block);
    const r = restrictPlan(plan, unit);
    const silu = r.targets.find((t) => t.role === 'activation' && t.uses.some((u) => /temb_proj/.test(u.node)))!;
    expect(silu.uses).toHaveLength(1);
    expect(plan.targets.find((t) => t.key === silu.key)!.uses.length).toBe(8); // one per ResnetBlock
    expect(r.targets.filter((t) => t.role === 'weight')).toHaveLength(block.layers.length);
  });
});
