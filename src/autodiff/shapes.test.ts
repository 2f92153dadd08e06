import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import { defaultOpset, isTensorType } from '../onnx/ir.js';
import { Prober } from '../runtime/probe.js';
import type { HostTensor } from '../util/host-tensor.js';
import { fixturePath } from '../test-support/fixtures.js';
import { inferShapes, type ShapeMap } from './shapes.js';

describe('concrete shape inference', () => {
  it.each(['tiny-deit-op17', 'tiny-deit-op13', 'tiny-swin-op17', 'tiny-unet-op17'])(
    'gives every value of %s the dims and dtype ORT computes (batch 3)',
    async (name) => {
      const model = readModel(fixturePath(`${name}.onnx`));
      const g = model.graph;
      const known: ShapeMap = new Map();
      const feeds: Record<string, HostTensor> = {};
      for (const i of g.inputs) {
        if (!isTensorType(i.type)) continue;
        const dims = i.type.shape!.map((d) => (typeof d === 'number' ? d : 3));
        known.set(i.name, { dtype: i.type.dtype, dims });
        const n = dims.reduce((p, d) => p * d, 1);
        feeds[i.name] =
          i.type.dtype === 'int64'
            ? { dtype: 'int64', dims, data: BigInt64Array.from({ length: n }, (_, k) => BigInt(10 * k)) }
            : { dtype: 'float32', dims, data: new Float32Array(n).fill(0.5) };
      }
      inferShapes(g, g.nodes, known, defaultOpset(model));
      const values = g.nodes.flatMap((n) => n.outputs).filter((o) => o !== '');
      expect(values.filter((v) => !known.has(v))).toEqual([]);
      const prober = await Prober.create(model, values, { threads: 1 });
      const got = await prober.run(feeds);
      await prober.release();
      for (const v of values) {
        const k = known.get(v)!;
        expect([v, k.dims], v).toEqual([v, got.get(v)!.dims]);
        expect(k.dtype === 'bool' ? 'uint8' : k.dtype, v).toBe(
          got.get(v)!.dtype === 'bool' ? 'uint8' : got.get(v)!.dtype,
        );
        if (k.value !== undefined && k.dtype === 'int64')
          expect(Array.from(k.value.data as BigInt64Array), v).toEqual(Array.from(got.get(v)!.data as BigInt64Array));
      }
    },
  );
});
