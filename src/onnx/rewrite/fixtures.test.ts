// The rewrites on real torch.onnx.export output (fixtures/, made by tools/make_fixtures.py); skipped cleanly when
// the fixtures are absent.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModel } from '../io/index.js';
import { isTensorType, type Model } from '../ir.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { fixturePath, loadReference, maxAbsDiff } from '../../test-support/fixtures.js';
import { foldConstants } from './constant-fold.js';
import { findLayerNorms, type LayerNorm } from './layernorm.js';
import { decomposeLayerNorms, fuseLayerNorms } from './layernorm-rewrite.js';

const DEIT = ['tiny-deit-op13.onnx', 'tiny-deit-op17.onnx'];
const ALL = [...DEIT, 'tiny-unet-op13.onnx', 'tiny-unet-op17.onnx'];
const present = ALL.every((f) => existsSync(fixturePath(f)));

/** Seeded feeds for every model input, at the given batch size (time steps in [0, 1000) for int64 inputs). */
function feeds(model: Model, batch: number, seed: number): Record<string, HostTensor> {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  const out: Record<string, HostTensor> = {};
  for (const i of model.graph.inputs) {
    if (!isTensorType(i.type) || i.type.shape === undefined) throw new Error(`input ${i.name} has no shape`);
    const dims = i.type.shape.map((d) => (typeof d === 'number' ? d : batch));
    const n = dims.reduce((a, b) => a * b, 1);
    out[i.name] =
      i.type.dtype === 'int64'
        ? { dtype: 'int64', dims, data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(next() * 1000))) }
        : { dtype: 'float32', dims, data: Float32Array.from({ length: n }, () => 2 * next() - 1) };
  }
  return out;
}

async function run(model: Model, f: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await Session.create(model, { threads: 1 });
  try {
    return await s.run(f);
  } finally {
    await s.release();
  }
}

describe.skipIf(!present)('rewrites on the torch-exported fixtures', () => {
  it('finds the same LayerNorms at opset 13 (decomposed) and 17 (fused): 2 per block + final', () => {
    const [op13, op17] = DEIT.map((f) => findLayerNorms(readModel(fixturePath(f)).graph));
    expect(op13!.map((l) => l.kind)).toEqual(new Array(5).fill('decomposed'));
    expect(op17!.map((l) => l.kind)).toEqual(new Array(5).fill('fused'));
    const summary = (l: LayerNorm) => ({ gamma: l.gamma, beta: l.beta, epsilon: l.epsilon, axis: l.axis });
    expect(op13!.map(summary)).toEqual(op17!.map(summary));
    expect(op13!.map((l) => l.gamma)).toEqual([
      'blocks.0.norm1.weight',
      'blocks.0.norm2.weight',
      'blocks.1.norm1.weight',
      'blocks.1.norm2.weight',
      'norm.weight',
    ]);
    expect(op13![0]!.nodes.map((n) => n.opType)).toEqual([
      'ReduceMean',
      'Sub',
      'Pow',
      'ReduceMean',
      'Add',
      'Sqrt',
      'Div',
      'Mul',
      'Add',
    ]);
  });

  for (const file of ALL) {
    it(`constant folding + DCE keep ${file}'s outputs bit for bit`, async () => {
      const model = readModel(fixturePath(file));
      const inputs = [feeds(model, 2, 1), feeds(model, 3, 2)];
      const before = await Promise.all(inputs.map((f) => run(model, f)));
      const nodes = model.graph.nodes.length;
      const r = foldConstants(model.graph);
      expect(r.constants).toBeGreaterThan(0);
      expect(model.graph.nodes.filter((n) => n.opType === 'Constant')).toHaveLength(0);
      expect(model.graph.nodes.length).toBeLessThan(nodes);
      for (const [i, f] of inputs.entries()) expect(await run(model, f)).toEqual(before[i]);
    });
  }

  it('fuses the opset-13 LayerNorms into opset-17 LayerNormalization ops with the same outputs (1e-5)', async () => {
    const op13 = readModel(fixturePath('tiny-deit-op13.onnx'));
    const op17 = readModel(fixturePath('tiny-deit-op17.onnx'));
    const ref = loadReference('tiny-deit-op17.ref.json');
    const inputs = [feeds(op13, 2, 3), ref.inputs];
    const before = await Promise.all(inputs.map((f) => run(op13, f)));
    expect(fuseLayerNorms(op13)).toEqual({ rewritten: 5, skipped: [] });
    expect(op13.opsetImports.get('')).toBe(17);
    const opCount = (m: Model, op: string) => m.graph.nodes.filter((n) => n.opType === op).length;
    for (const op of ['LayerNormalization', 'ReduceMean', 'Pow', 'Sqrt'])
      expect(opCount(op13, op)).toBe(opCount(op17, op));
    for (const [i, f] of inputs.entries()) {
      const [fused, exported] = [await run(op13, f), await run(op17, f)];
      expect(maxAbsDiff(fused.logits!, before[i]!.logits!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(fused.logits!, exported.logits!)).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff((await run(op13, ref.inputs)).logits!, ref.outputs.logits!)).toBeLessThan(1e-5);
  });

  it('decomposes the opset-17 LayerNorms with the same outputs (1e-5), found again as decomposed', async () => {
    const model = readModel(fixturePath('tiny-deit-op17.onnx'));
    const f = feeds(model, 4, 5);
    const before = await run(model, f);
    expect(decomposeLayerNorms(model)).toEqual({ rewritten: 5, skipped: [] });
    expect(findLayerNorms(model.graph).map((l) => l.kind)).toEqual(new Array(5).fill('decomposed'));
    expect(maxAbsDiff((await run(model, f)).logits!, before.logits!)).toBeLessThan(1e-5);
  });
});
