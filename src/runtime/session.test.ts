import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { Session } from './session.js';
import { probe } from './probe.js';
import { isQuantlensError } from '../errors.js';

function tinyModel() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 3]);
  const w = b.init('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
  const m = b.op('MatMul', [x, w]);
  const r = b.op('Relu', [m]);
  b.output(r, 'float32', ['batch', 2]);
  return { model: makeModel(b.graph), m, r };
}

describe('Session', () => {
  it('runs a model built in code', async () => {
    const { model, r } = tinyModel();
    const s = await Session.create(model, { threads: 1 });
    const out = await s.run({ x: { dtype: 'float32', dims: [2, 3], data: Float32Array.from([1, 0, 0, 0, -1, 0]) } });
    expect(Array.from(out[r]!.data as Float32Array)).toEqual([1, 2, 0, 0]);
    await s.release();
  });

  it('names the input and both shapes when the data does not fit', async () => {
    const { model } = tinyModel();
    const s = await Session.create(model, { threads: 1 });
    const err = await s
      .run({ x: { dtype: 'float32', dims: [2, 4], data: new Float32Array(8) } })
      .catch((e: unknown) => e);
    expect(isQuantlensError(err)).toBe(true);
    expect((err as Error).message).toMatch(/model input x expects shape \[batch, 3\], the data gives \[2, 4\]/);
    await s.release();
  });

  it('probes intermediate tensors batch by batch without changing the model', async () => {
    const { model, m } = tinyModel();
    const feeds = [1, 2].map((v) => ({
      x: { dtype: 'float32' as const, dims: [1, 3], data: Float32Array.from([v, -v, 0]) },
    }));
    const seen: number[][] = [];
    for await (const t of probe(model, [m, 'x', 'w'], feeds, { threads: 1 })) {
      seen.push(Array.from(t.get(m)!.data as Float32Array));
      expect(t.get('w')!.dims).toEqual([3, 2]);
    }
    expect(seen).toEqual([
      [-2, -2],
      [-4, -4],
    ]);
    expect(model.graph.outputs.map((o) => o.name)).toHaveLength(1);
  });
});
