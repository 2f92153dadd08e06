// analyzeModel on a graph with known answers (test-support/analysis-graphs.ts): LayerNorm channel ranges and
// variation, the Softmax distribution and its quantization errors, the quantizable tensors, and the switchable
// sensitivity model against the fake-quant pass it must reproduce.

import { describe, expect, it } from 'vitest';
import { C, GAMMA, knownFeeds, knownModel, TOKENS } from '../test-support/analysis-graphs.js';
import { Session } from '../runtime/index.js';
import { calibrateActivations, calibrateWeights } from '../methods/calibrate.js';
import { applyFakeQuant } from '../quant/fake-quant.js';
import { fakeQuantLog } from '../quant/log-quantizers.js';
import { makeLogParams } from '../quant/qparams.js';
import { planQuantization } from '../quant/plan.js';
import { defaultRecipe } from '../quant/recipe.js';
import { MinMaxObserver } from '../quant/observers/minmax.js';
import { fakeQuantUniform } from '../quant/quantizers.js';
import { analyzeModel, type AnalyzeOptions } from './analyze.js';
import { quantizableTensors } from './sites.js';
import { buildSwitchable, switchFeeds } from './switchable.js';

const batches = [knownFeeds(2, 0), knownFeeds(3, 4)];

function options(extra: Partial<AnalyzeOptions> = {}): AnalyzeOptions {
  return {
    model: { name: 'known', path: 'known.onnx', sha256: null },
    data: 'generated',
    seed: 0,
    wBits: 4,
    aBits: 4,
    method: 'minmax',
    calib: async function* () {
      for (const feeds of batches) yield { feeds };
    },
    limit: 0,
    threads: 1,
    ...extra,
  };
}

describe('analyzeModel on a graph with known answers', async () => {
  const a = await analyzeModel(knownModel(), options());

  it('finds the quantizable tensors: both operands of the attention MatMul, the LayerNorm output, the weight', () => {
    const q = quantizableTensors(knownModel().graph);
    expect(q.map((t) => `${t.role}:${t.tensor}`).sort()).toEqual(
      ['activation:norm_out', 'activation:softmax_out', 'activation:v', 'weight:w'].sort(),
    );
    expect(a.tensors).toHaveLength(4);
    expect(a.model.kind).toBe('vit');
    expect(a.settings.calibItems).toBe(5);
    expect(a.settings.calibBatches).toBe(2);
  });

  it('measures per-channel ranges 2·gamma after the LayerNorm and a variation of exactly 10', () => {
    expect(a.layerNorms).toHaveLength(1);
    const ln = a.layerNorms[0]!;
    expect(ln.channels).toBe(C);
    expect(ln.consumers).toEqual(['fc']);
    const m = 1 / Math.sqrt(1 + 1e-5); // the normalized magnitude of the smallest token scale (1)
    GAMMA.forEach((g, c) => {
      expect(ln.channelMax[c]).toBeCloseTo(g, 3);
      expect(ln.channelMax[c]! - ln.channelMin[c]!).toBeCloseTo(2 * g, 3);
      expect(ln.channelMax[c]!).toBeGreaterThanOrEqual(g * m - 1e-6);
    });
    expect(ln.variation).toBeCloseTo(10, 5);
    expect(ln.widestChannel).toBe(5);
    expect(ln.gammaRatio).toBeCloseTo(10, 6);
    // per tensor, the outlier channel's range coarsens the grid of the other five (values ±1, step 20/15)
    expect(ln.layerwiseMse).toBeCloseTo((5 * (4 / 3 - 1) ** 2 + (10 - 28 / 3) ** 2) / 6, 4);
    expect(ln.channelwiseMse).toBeLessThan(ln.layerwiseMse / 2);
  });

  it('bins the Softmax values where they are and computes the quantizers\u2019 MSE with the reported scales', () => {
    const s = a.softmax[0]!;
    const rows = 5 * TOKENS; // items × tokens
    expect(s.count).toBe(rows * 4);
    const h = s.histogram;
    const bin = (p: number) => Math.floor((Math.log10(p) - h.log10Lo) * h.binsPerDecade);
    const typeA = 5 * (TOKENS / 2); // rows [.5, .25, .125, .125]: tokens 0 and 2 of each of the 5 items
    expect(h.counts[bin(0.5)]).toBe(typeA);
    expect(h.counts[bin(0.25)]).toBe(typeA);
    expect(h.counts[bin(0.125)]).toBe(2 * typeA);
    expect(h.counts[bin(Math.exp(-20))]).toBe(3 * typeA);
    expect(h.counts[h.counts.length - 1]).toBe(typeA); // ≈1
    const below = new Map(s.shareBelow.map((b) => [b.threshold, b.share]));
    expect(below.get(1e-3)).toBeCloseTo(3 / 8, 12);
    expect(below.get(1e-1)).toBeCloseTo(3 / 8, 12);
    expect(s.massBelow1e3).toBeCloseTo((3 * Math.exp(-20)) / 2, 12);
    // MSE of the log quantizers, recomputed from the data and the reported δ
    const all = Float32Array.from(
      batches.flatMap((f) => {
        const x = f.s!.data as Float32Array;
        const out: number[] = [];
        for (let r = 0; r < x.length; r += 4) {
          const row = Array.from(x.subarray(r, r + 4));
          const m = Math.max(...row);
          const e = row.map((v) => Math.exp(v - m));
          const z = e.reduce((p, q) => p + q, 0);
          out.push(...e.map((v) => v / z));
        }
        return out;
      }),
    );
    for (const e of s.errors.filter((x) => x.quantizer === 'log2' || x.quantizer === 'logsqrt2')) {
      const q = fakeQuantLog(all, makeLogParams(e.quantizer as 'log2' | 'logsqrt2', e.bits, e.scale));
      const mse = all.reduce((acc, v, i) => acc + (q[i]! - v) ** 2, 0) / all.length;
      expect(e.mse).toBeCloseTo(mse, 9);
    }
    // uniform min-max is calibrated on the first batch; the data is the same in every batch, so it equals a
    // min-max quantizer of everything
    const obs = new MinMaxObserver({ bits: 4 });
    obs.observe(all, [all.length]);
    const u = fakeQuantUniform(all, [all.length], obs.compute());
    const umse = all.reduce((acc, v, i) => acc + (u[i]! - v) ** 2, 0) / all.length;
    expect(s.errors.find((e) => e.quantizer === 'uniform-minmax' && e.bits === 4)!.mse).toBeCloseTo(umse, 9);
    expect(s.errors.map((e) => `${e.quantizer}@${e.bits}`)).toHaveLength(8);
  });

  it('ranks layers by sensitivity, and the accumulated view ends at everything quantized', () => {
    const s = a.sensitivity!;
    expect(s.layers.map((l) => l.node)).toEqual(['fc', 'attn_v']);
    const [fc, attn] = s.layers;
    expect(fc!.hasWeight && fc!.hasActivation).toBe(true);
    expect(attn!.hasWeight).toBe(false);
    expect(attn!.sqnrW).toBeNull();
    expect(s.allSqnr).toBe(attn!.sqnrAccumulated);
    expect(fc!.sqnrAccumulated).toBe(fc!.sqnrBoth);
    for (const l of s.layers) expect(Number.isFinite(l.sqnrBoth)).toBe(true);
    expect(fc!.noiseShare + attn!.noiseShare).toBeCloseTo(1, 12);
    expect(s.fpTop1).toBeNull();
  });

  it('notes nothing missing for a ViT-like graph and skips sensitivity on request', async () => {
    expect(a.notes).toEqual([]);
    const b = await analyzeModel(knownModel(), options({ sensitivity: false }));
    expect(b.sensitivity).toBeNull();
    expect(b.layerNorms[0]!.variation).toBeCloseTo(10, 5);
  });
});

describe('the switchable model', () => {
  it('with every switch on computes exactly what applyFakeQuant computes, and with none the float model', async () => {
    const model = knownModel();
    const plan = planQuantization(model, defaultRecipe(4, 4));
    calibrateWeights(model, plan);
    await calibrateActivations(model, plan, batches, { threads: 1 });
    const sw = buildSwitchable(model, plan);
    const feeds = knownFeeds(3, 1);
    const [sSw, sFq, sFp] = await Promise.all(
      [sw.model, applyFakeQuant(model, plan), model].map((m) => Session.create(m, { threads: 1, optimize: false })),
    );
    const on = (await sSw!.run({ ...feeds, ...switchFeeds(sw, new Set(sw.switches)) }, ['logits'])).logits!;
    const off = (await sSw!.run({ ...feeds, ...switchFeeds(sw, new Set()) }, ['logits'])).logits!;
    const fq = (await sFq!.run(feeds, ['logits'])).logits!;
    const fp = (await sFp!.run(feeds, ['logits'])).logits!;
    expect(Array.from(on.data as Float32Array)).toEqual(Array.from(fq.data as Float32Array));
    expect(Array.from(off.data as Float32Array)).toEqual(Array.from(fp.data as Float32Array));
    expect(on.data).not.toEqual(off.data);
    expect(sw.layers.map((l) => [l.node, l.w !== null, l.a !== null])).toEqual([
      ['fc', true, true],
      ['attn_v', false, true],
    ]);
    await Promise.all([sSw!, sFq!, sFp!].map((s) => s.release()));
  });
});
