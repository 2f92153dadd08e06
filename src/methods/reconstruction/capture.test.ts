// Capturing units' inputs (from the weight-quantized model) and targets (from the FP model) over several batches
// gives exactly what probing each batch directly gives, laid out sample after sample; shared tensors are cached once;
// an oversized cache fails on the first batch with one clear error.

import { describe, expect, it } from 'vitest';
import { readModel } from '../../onnx/io/index.js';
import type { Model } from '../../onnx/ir.js';
import { isQuantlensError, type QuantlensError } from '../../errors.js';
import { applyFakeQuant } from '../../quant/fake-quant.js';
import { planQuantization } from '../../quant/plan.js';
import { defaultRecipe } from '../../quant/recipe.js';
import { Prober, type Feeds } from '../../runtime/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { tinyUNetFeeds } from '../../test-support/tiny-unet-feeds.js';
import { calibrateWeights } from '../calibrate.js';
import { captureUnit, captureUnits } from './capture.js';
import { findUnits } from './units.js';

async function probeAll(model: Model, names: string[], feeds: Feeds[]): Promise<Map<string, number[]>> {
  const p = await Prober.create(model, names, { threads: 1 });
  const out = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const f of feeds) for (const [k, v] of await p.run(f)) out.get(k)!.push(...(v.data as Float32Array));
  await p.release();
  return out;
}

async function failure(p: Promise<unknown>): Promise<QuantlensError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isQuantlensError(e)).toBe(true);
  return e as QuantlensError;
}

describe('captureUnits on the tiny UNet', () => {
  const model = readModel(fixturePath('tiny-unet-op17.onnx'));
  const { units } = findUnits(model);
  const plan = planQuantization(model, defaultRecipe(4, 32));
  calibrateWeights(model, plan);
  const weightQuantized = applyFakeQuant(model, plan);
  const feeds = [tinyUNetFeeds(3, 1), tinyUNetFeeds(3, 2), tinyUNetFeeds(2, 3)];
  const pick = ['down.0.block.0', 'up.1.attn.0', 'conv_out'].map((id) => units.find((u) => u.id === id)!);

  it('caches entries from the input model and exits from the FP model, equal to direct probes', async () => {
    const r = await captureUnits(weightQuantized, model, pick, feeds, { threads: 1 });
    expect([r.samples, r.batches]).toEqual([8, 3]);
    const entries = [...new Set(pick.flatMap((u) => u.entries))];
    const inputs = await probeAll(weightQuantized, entries, feeds);
    const targets = await probeAll(
      model,
      pick.map((u) => u.exit),
      feeds,
    );
    for (const [i, u] of pick.entries()) {
      const c = r.units[i]!;
      expect(c.unit).toBe(u.id);
      expect(c.inputs.map((t) => t.name)).toEqual(u.entries);
      for (const t of c.inputs) expect(Array.from(t.data)).toEqual(inputs.get(t.name));
      expect(Array.from(c.target!.data)).toEqual(targets.get(u.exit));
    }
    const block = r.units[0]!;
    expect(block.inputs.map((t) => t.dims)).toEqual([
      [8, 8, 8, 8],
      [8, 32],
    ]);
    expect(block.target!.dims).toEqual([8, 8, 8, 8]);
    // the weight-quantized model's entries differ from the FP ones: the input model was used
    const fp = await probeAll(model, [pick[1]!.entries[0]!], feeds);
    expect(Array.from(r.units[1]!.inputs[0]!.data)).not.toEqual(fp.get(pick[1]!.entries[0]!));
  });

  it('caches a tensor once when one model gives both (an exit that is the next unit entry)', async () => {
    const [a, b] = ['mid.block_1', 'mid.attn_1'].map((id) => units.find((u) => u.id === id)!);
    const r = await captureUnits(model, model, [a!, b!], feeds, { threads: 1, samples: 8 });
    expect(r.units[1]!.inputs[0]).toBe(r.units[0]!.target);
    const one = await captureUnit(model, model, a!, feeds, { threads: 1 });
    expect(Array.from(one.target!.data)).toEqual(Array.from(r.units[0]!.target!.data));
    expect(r.bytes).toBe(4 * 8 * (2 * 16 * 4 * 4 + 32 + 16 * 4 * 4));
  });

  it('refuses on the first batch when the caches would pass the limit', async () => {
    let pulled = 0;
    const counted = (function* () {
      for (const f of feeds) {
        pulled++;
        yield f;
      }
    })();
    const e = await failure(
      captureUnits(weightQuantized, model, units, counted, { threads: 1, samples: 256, limitBytes: 2 ** 20 }),
    );
    expect(e.kind).toBe('limit');
    expect(e.message).toMatch(
      /^caching the inputs and targets of 18 units needs 13\.3 MiB for 256 samples \(54336 bytes per sample\), over the limit of 1\.0 MiB$/,
    );
    expect(e.hint).toMatch(/fewer units per pass/);
    expect(pulled).toBe(1);
  });

  it('says so when the feeds give more samples than announced', async () => {
    const e = await failure(captureUnits(model, model, [pick[2]!], feeds, { threads: 1, samples: 4 }));
    expect(e.message).toMatch(/more samples than the 4 announced/);
  });
});
