// analyzeModel on the committed fixtures: the opset-17 (fused LayerNorm) and opset-13 (decomposed) DeiT exports
// give the same LayerNorm figures; the UNet on a time step-aware set gives per-step ranges that match the data,
// finds its four shortcut Concats with ranges that match a direct probe, and measures error accumulation.

import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import { Prober, modelInputs } from '../runtime/index.js';
import { tensorDataset } from '../data/tensor-dataset.js';
import { DEFAULT_SCHEDULE } from '../diffusion/index.js';
import { randn, rng } from '../quant/test-helpers.js';
import type { HostTensor } from '../util/host-tensor.js';
import { fixturePath } from '../test-support/fixtures.js';
import { analyzeModel, type AnalyzeOptions, type CalibBatch } from './analyze.js';
import { planSteps, stepBatches } from './step-data.js';

const base = {
  data: 'generated',
  seed: 0,
  wBits: 4,
  aBits: 4,
  method: 'minmax' as const,
  limit: 0,
  threads: 1,
};

function images(n: number, seed: number): HostTensor {
  return { dtype: 'float32', dims: [n, 3, 16, 16], data: randn(rng(seed), n * 768) };
}

describe('tiny DeiT fixtures', async () => {
  const calib = [images(8, 1), images(8, 2)];
  const labelled = [
    { feeds: { pixel_values: images(16, 3) }, labels: Int32Array.from({ length: 16 }, (_, i) => i % 10) },
  ];
  const run = (name: string, extra: Partial<AnalyzeOptions>) =>
    analyzeModel(readModel(fixturePath(`${name}.onnx`)), {
      ...base,
      model: { name, path: name, sha256: null },
      calib: async function* () {
        for (const pixel_values of calib) yield { feeds: { pixel_values } };
      },
      ...extra,
    });
  const a17 = await run('tiny-deit-op17', {
    evalBatches: async function* () {
      yield* labelled;
    },
    limit: 16,
  });
  const a13 = await run('tiny-deit-op13', { sensitivity: false });

  it('finds five LayerNorms in both exports with the same channel ranges', () => {
    expect(a17.layerNorms.map((l) => l.kind)).toEqual(Array(5).fill('fused'));
    expect(a13.layerNorms.map((l) => l.kind)).toEqual(Array(5).fill('decomposed'));
    a17.layerNorms.forEach((l, i) => {
      const m = a13.layerNorms[i]!;
      expect(m.channels).toBe(32);
      for (let c = 0; c < 32; c++) {
        expect(m.channelMin[c]).toBeCloseTo(l.channelMin[c]!, 4);
        expect(m.channelMax[c]).toBeCloseTo(l.channelMax[c]!, 4);
      }
      expect(m.variation).toBeCloseTo(l.variation, 3);
      // the fixture's gamma has two channels ×4, which is what the variation picks up
      expect(l.variation).toBeGreaterThan(2);
    });
    expect(a17.layerNorms.slice(0, 4).map((l) => l.consumers.length)).toEqual([1, 1, 1, 1]);
  });

  it('covers every MatMul/Gemm/Conv input: 14 layers, 2 Softmax, both attention operands', () => {
    expect(a17.softmax).toHaveLength(2);
    expect(a13.softmax).toHaveLength(2);
    const acts = a17.tensors.filter((t) => t.role === 'activation');
    const weights = a17.tensors.filter((t) => t.role === 'weight');
    expect(weights).toHaveLength(10); // patch conv, 4 per block, head
    expect(acts).toHaveLength(18); // conv, head, 4 Linear + 2×2 attention operands per block
    expect(a13.tensors).toHaveLength(a17.tensors.length);
    const s = a17.sensitivity!;
    expect(s.layers).toHaveLength(14);
    expect(s.evalItems).toBe(16);
    expect(s.fpTop1).not.toBeNull();
    expect(s.layers.every((l) => l.top1Both !== null && Number.isFinite(l.sqnrBoth))).toBe(true);
    expect(s.allSqnr).toBeLessThan(Math.max(...s.layers.map((l) => l.sqnrBoth)));
    expect(a17.model.kind).toBe('vit');
  });
});

describe('tiny UNet fixture on a time step-aware set', async () => {
  const model = readModel(fixturePath('tiny-unet-op17.onnx'));
  const steps = [0, 10, 20, 30];
  const per = 3;
  const n = steps.length * per;
  const r = rng(9);
  const x = new Float32Array(n * 64);
  steps.forEach((_, k) => x.set(randn(r, per * 64, 2 - 0.5 * k), k * per * 64));
  const arrays = new Map<string, HostTensor>([
    ['x', { dtype: 'float32', dims: [n, 1, 8, 8], data: x }],
    [
      't',
      {
        dtype: 'int64',
        dims: [n],
        data: BigInt64Array.from(steps.flatMap((s) => Array(per).fill(BigInt(900 - 30 * s)))),
      },
    ],
    ['step', { dtype: 'int64', dims: [n], data: BigInt64Array.from(steps.flatMap((s) => Array(per).fill(BigInt(s)))) }],
  ]);
  const ds = tensorDataset(arrays, 'calib.npz');
  const plan = planSteps(arrays, 't', n, 0)!;
  const batches = (): AsyncIterable<CalibBatch> => stepBatches(ds, plan, modelInputs(model), per);
  const a = await analyzeModel(model, {
    ...base,
    aBits: 8,
    model: { name: 'tiny-unet', path: 'tiny-unet', sha256: null },
    calib: batches,
    sensitivity: false,
    sampler: {
      config: { sampler: 'ddim', steps: 4, skip: 'uniform', eta: 0, schedule: DEFAULT_SCHEDULE },
      samples: 2,
      batch: 2,
      seed: 0,
    },
  });

  it('groups items by step and reports each step\u2019s x range exactly', () => {
    const ts = a.timesteps!;
    expect(ts.steps).toEqual(steps);
    expect(ts.t).toEqual(steps.map((s) => 900 - 30 * s));
    expect(ts.items).toEqual(steps.map(() => per));
    steps.forEach((_, k) => {
      const part = x.subarray(k * per * 64, (k + 1) * per * 64);
      expect(ts.inputBox.min[k]).toBe(Math.min(...part));
      expect(ts.inputBox.max[k]).toBe(Math.max(...part));
      expect(ts.inputBox.p1[k]).toBeLessThan(ts.inputBox.p50[k]!);
    });
    const xin = ts.tensors.find((t) => t.tensor === 'x')!;
    expect(xin.drift).toBeGreaterThan(2);
    expect(a.model.kind).toBe('diffusion');
  });

  it('finds the four decoder shortcut Concats and measures each half like a direct probe', async () => {
    expect(a.shortcuts.map((s) => s.conv)).toEqual([
      '/block.0/nin_shortcut_1/Conv',
      '/block.1/nin_shortcut/Conv',
      '/block.0/nin_shortcut_2/Conv',
      '/block.1/nin_shortcut_1/Conv',
    ]);
    const parts = a.shortcuts.flatMap((s) => s.halves.map((h) => h.tensor));
    const prober = await Prober.create(model, parts, { threads: 1 });
    const lo = new Map(parts.map((p) => [p, Infinity]));
    const hi = new Map(parts.map((p) => [p, -Infinity]));
    for await (const b of batches()) {
      const got = await prober.run(b.feeds);
      for (const p of parts)
        for (const v of got.get(p)!.data as Float32Array) {
          lo.set(p, Math.min(lo.get(p)!, v));
          hi.set(p, Math.max(hi.get(p)!, v));
        }
    }
    await prober.release();
    for (const s of a.shortcuts) {
      expect(s.halves).toHaveLength(2);
      for (const h of s.halves) {
        expect(h.min).toBe(lo.get(h.tensor));
        expect(h.max).toBe(hi.get(h.tensor));
        expect([8, 16]).toContain(h.channels);
      }
      expect(s.halfRatio).toBeGreaterThanOrEqual(1);
      expect(s.neighbours.length).toBeGreaterThan(0);
    }
  });

  it('measures FP-vs-quantized x_t along the sampler: zero at the shared start, growing after', () => {
    const e = a.errorAccumulation!;
    expect(e.steps.length).toBe(e.mse.length);
    expect(e.mse[0]).toBe(0);
    expect(e.mse.at(-1)!).toBeGreaterThan(0);
    expect(e.label).toMatch(/DDIM 4 steps, 2 samples, W4A8/);
  });
});
