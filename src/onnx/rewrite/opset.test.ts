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
    expect(() => raiseDefaultOpset(makeModel(new GraphBuilder().graph, 11), 17)).toThrow(/opsets 13 to 17/);
    expect(() => raiseDefaultOpset(makeModel(new GraphBuilder().graph, 17), 18)).toThrow(/opsets 13 to 17/);
  });
});
