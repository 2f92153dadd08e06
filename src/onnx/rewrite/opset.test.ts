import { Session } from '../../runtime/index.js';
import type { HostTensor } from '../../util/host-tensor.js';
import type { Model } from '../ir.js';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../builder.js';
import { defaultOpset } from '../ir.js';
import { raiseDefaultOpset } from './opset.js';

describe('raiseDefaultOpset', () => {
  it('raises 13 to 17, writing out the RoiAlign default that opset 16 changed', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 1, 4, 4]);
    const rois = b.input('rois', 'float32', [1, 4]);
    const idx = b.input('idx', 'int64', [1]);
    b.output(b.op('RoiAlign', [x, rois, idx]));
    const model = makeModel(b.graph, 13);
    model.irVersion = 7n;
    raiseDefaultOpset(model, 17);
    expect(defaultOpset(model)).toBe(17);
    expect(model.irVersion).toBe(8n);
    expect(b.graph.nodes[0]!.stringAttr('coordinate_transformation_mode', '')).toBe('output_half_pixel');
    raiseDefaultOpset(model, 15); // already past: nothing to do
    expect(defaultOpset(model)).toBe(17);
  });

  it('refuses conversions it cannot vouch for', () => {
    expect(() => raiseDefaultOpset(makeModel(new GraphBuilder().graph, 11), 17)).toThrow(/opsets 13 to 21/);
    expect(() => raiseDefaultOpset(makeModel(new GraphBuilder().graph, 17), 22)).toThrow(/opsets 13 to 21/);
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    const s = b.init('s', Float32Array.from([1, 1]), [2]);
    b.output(b.op('GroupNormalization', [x, s, s], { num_groups: 2 }), 'float32', [2, 4]);
    expect(() => raiseDefaultOpset(makeModel(b.graph, 18), 21)).toThrow(/GroupNormalization changed meaning/);
  });

  it('raises 13 to 21 moving ReduceMean axes to an input, with the same outputs in ORT', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    const m = b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const mx = b.op('ReduceMax', [x], { axes: [1], keepdims: 0 });
    b.output(b.op('Sub', [x, m]), 'float32', [2, 3, 4]);
    b.output(mx, 'float32', [2, 4]);
    const model = makeModel(b.graph, 13);
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3);
    const feeds = { x: { dtype: 'float32' as const, dims: [2, 3, 4], data } };
    const before = await runOnce(model, feeds);
    raiseDefaultOpset(model, 21);
    expect(model.opsetImports.get('')).toBe(21);
    expect(model.irVersion).toBe(10n);
    expect(model.graph.nodes.every((n) => !n.attributes.has('axes'))).toBe(true);
    const after = await runOnce(model, feeds);
    for (const k of Object.keys(before))
      expect(Array.from(after[k]!.data as Float32Array)).toEqual(Array.from(before[k]!.data as Float32Array));
  });
});

async function runOnce(model: Model, feeds: Record<string, HostTensor>) {
  const s = await Session.create(model, { threads: 1 });
  const out = await s.run(feeds);
  await s.release();
  return out;
}
