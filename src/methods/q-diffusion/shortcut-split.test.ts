// Shortcut splitting as a rewrite: in float the split graph computes the original outputs (1e-5 relative) on both
// fixture UNets, every decoder nin_shortcut (and nothing else) is split, and the weight slices are the original's.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { cloneModel } from '../../onnx/clone.js';
import { readModel } from '../../onnx/io/index.js';
import type { Model } from '../../onnx/ir.js';
import { toFloat32 } from '../../onnx/tensor.js';
import type { Feeds } from '../../runtime/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { relativeGap, runModel } from '../../test-support/repq-vit.js';
import { mulberry32 } from '../../data/calib.js';
import { channelsOf, splitShortcuts } from './shortcut-split.js';

function unetFeeds(n: number, seed: number): Feeds {
  const r = mulberry32(seed);
  const x = Float32Array.from({ length: n * 64 }, () => (r() * 2 - 1) * 2);
  const t = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 1000)));
  return { x: { dtype: 'float32', dims: [n, 1, 8, 8], data: x }, t: { dtype: 'int64', dims: [n], data: t } };
}

describe('splitShortcuts', () => {
  for (const name of ['tiny-unet-op17.onnx', 'tiny-unet-op13.onnx'])
    it(`keeps the outputs of ${name} and splits the 4 decoder nin_shortcuts`, async () => {
      const model = readModel(fixturePath(name));
      const split = cloneModel(model);
      const { splits, skipped } = splitShortcuts(split.graph);
      expect(skipped).toEqual([]);
      expect(splits.map((s) => s.conv).every((c) => c.includes('nin_shortcut'))).toBe(true);
      expect(splits).toHaveLength(4);
      for (const s of splits) {
        expect(s.parts).toHaveLength(2);
        // The Concat still feeds the block's GroupNorm; the Conv reading it is gone, two Convs and an Add replace it.
        expect(split.graph.nodes.some((n) => n.name === s.conv)).toBe(false);
        expect(split.graph.nodes.some((n) => n.name === s.concat)).toBe(true);
        const w = model.graph.initializers.get(s.weight)!;
        expect(s.parts[0]!.channels + s.parts[1]!.channels).toBe(w.dims[1]);
        const [a, b] = s.parts.map((p) => split.graph.initializers.get(p.weight)!);
        expect(a!.dims).toEqual([w.dims[0], s.parts[0]!.channels, ...w.dims.slice(2)]);
        // Row o of the original weight is row o of the first slice followed by row o of the second.
        const [wa, wb, wf] = [toFloat32(a!), toFloat32(b!), toFloat32(w)];
        const ra = wa.length / w.dims[0]!;
        const rb = wb.length / w.dims[0]!;
        expect(Array.from(wf.subarray(ra + rb, 2 * (ra + rb)))).toEqual([
          ...wa.subarray(ra, 2 * ra),
          ...wb.subarray(rb, 2 * rb),
        ]);
      }
      const feeds = unetFeeds(3, 5);
      const [ref, got] = [await runModel(model, feeds), await runModel(split, feeds)];
      expect(relativeGap(got.eps!, ref.eps!)).toBeLessThanOrEqual(1e-5);
    });

  it('infers part channels from producers, takes probed ones, and skips what it cannot tell', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['n', 3, 4, 4]);
    const w1 = b.init('w1', new Float32Array(5 * 3), [5, 3, 1, 1]);
    const h = b.op('Relu', [b.op('Conv', [x, w1])]);
    // A graph input without a channel dimension in its shape: only the weight or a probe can tell.
    const s = b.input('s', 'float32', ['n', 'c', 4, 4]);
    const cat = b.op('Concat', [h, s], { axis: 1 });
    const w2 = b.init(
      'w2',
      Float32Array.from({ length: 2 * 7 }, (_, i) => i),
      [2, 7, 1, 1],
    );
    b.output(b.op('Conv', [cat, w2], {}, { name: 'nin' }), 'float32');
    const m: Model = makeModel(b.graph, 17);
    expect(channelsOf(m.graph, h)).toBe(5);
    expect(channelsOf(m.graph, s)).toBeUndefined();
    const one = cloneModel(m);
    expect(splitShortcuts(one.graph).splits[0]!.parts.map((p) => p.channels)).toEqual([5, 2]);
    // Probed counts that disagree with the weight are refused.
    const bad = splitShortcuts(cloneModel(m).graph, { channels: new Map([['s', 3]]) });
    expect(bad.splits).toEqual([]);
    expect(bad.skipped[0]!.reason).toMatch(/5 \+ 3 channels but the weight has 7/);
  });
});
