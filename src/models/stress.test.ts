import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import { Session } from '../runtime/index.js';
import { fixturePath, loadReference } from '../test-support/fixtures.js';
import { makeStressVariant } from './stress.js';
import { Prober } from '../runtime/index.js';
import { findPostLnPairs } from '../methods/repq-vit/post-ln-pairs.js';
import { foldConstants } from '../onnx/rewrite/constant-fold.js';

describe.each(['tiny-deit-op17', 'tiny-deit-op13', 'tiny-swin-op17'])('stress variant of %s', (name) => {
  it('keeps the FP outputs within 1e-5 and puts outlier channels an order of magnitude above the median', async () => {
    const model = readModel(fixturePath(`${name}.onnx`));
    const ref = loadReference(`${name}.ref.json`);
    const { model: stressed, records } = makeStressVariant(model, { seed: 1 });
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) expect(r.maxFactor / r.medianFactor).toBeGreaterThan(5);
    const run = async (m: typeof model) => {
      const s = await Session.create(m, { threads: 1 });
      const o = await s.run(ref.inputs);
      await s.release();
      return o.logits!.data as Float32Array;
    };
    const [a, b] = [await run(model), await run(stressed)];
    const scale = Math.max(...Array.from(a, Math.abs));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    // The post-LN activations of the variant now have channel ranges far apart.
    foldConstants(stressed.graph);
    const pair = findPostLnPairs(stressed.graph).pairs[0]!;
    const prober = await Prober.create(stressed, [pair.tensor], { threads: 1 });
    const t = (await prober.run(ref.inputs)).get(pair.tensor)!;
    await prober.release();
    const c = pair.channels;
    const lo = new Float32Array(c).fill(Infinity);
    const hi = new Float32Array(c).fill(-Infinity);
    const x = t.data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      lo[i % c] = Math.min(lo[i % c]!, x[i]!);
      hi[i % c] = Math.max(hi[i % c]!, x[i]!);
    }
    const ranges = Array.from(hi, (h, i) => h - lo[i]!).sort((p, q) => p - q);
    expect(ranges.at(-1)! / ranges[Math.floor(c / 2)]!).toBeGreaterThan(5);
  });
});
