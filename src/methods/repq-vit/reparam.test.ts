// The reparameterization's two promises (repq-vit.md §3.2, §3.4), on the DeiT and Swin fixtures at both opsets:
//  1. without any quantization the reparameterized float graph computes the original outputs (1e-5 relative);
//  2. with z~ rounded, the per-tensor quantizer on every post-LN tensor of the simulated model picks exactly the
//     codes that the channel-wise quantizer of pass 1 picks on the ORIGINAL LayerNorm's output.
//
// What "equal" means for 2. The reparameterized quantizer sees x' = x/r − b, not x, and returns
// x̂' = s~·(q' − z~) in that rescaled space. Mapped back, r⊙(x̂' + b) = s_c·(q' − z~) + r_c·b_c
// = s_c·(q' − z~) − s_c·z_c + s_c·z~ = s_c·(q' − z_c) exactly (r_c·s~ = s_c, r_c·b_c = −z_c·s_c + s_c·z~), which is
// the channel-wise output s_c·(q − z_c) iff the integer codes agree, q' = q. So the test compares codes, recovered
// from both quantizers' outputs in the same graph run: the original LayerNorm (original γ, β) and the data
// movement up to the consumer are duplicated next to the reparameterized ones, on the same (quantized) input, and
// the channel-wise quantizer is applied there. Evaluating r⊙(x̂' + b) in float32 adds a rounding error of a few
// ulps, so the mapped-back values are also checked against x̂ to 1e-5 of a step, not bit for bit.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../onnx/builder.js';
import { cloneModel } from '../../onnx/clone.js';
import { readModel } from '../../onnx/io/index.js';
import { Node, type Model } from '../../onnx/ir.js';
import { constantTensor } from '../../onnx/rewrite/const-value.js';
import { toFloat32 } from '../../onnx/tensor.js';
import { emitUniform } from '../../quant/fake-quant.js';
import type { UniformParams } from '../../quant/qparams.js';
import { roundHalfEven } from '../../quant/round.js';
import { Prober, type Feeds } from '../../runtime/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { relativeGap, runModel, seededImages } from '../../test-support/repq-vit.js';
import { findPostLnPairs, type PostLnPair } from './post-ln-pairs.js';
import { runRepqVit } from './pipeline.js';
import { reparamFactors, type ReparamRecord } from './reparam.js';

const settings = (roundZeroPoint: boolean) =>
  ({ wBits: 4, aBits: 4, postLn: 'reparam', postSoftmax: 'logsqrt2', roundZeroPoint }) as const;

/**
 * Adds to `sim` a copy of the original LayerNorm of `pair` (nodes and constants from `orig`) reading the same
 * input, the same data movement after it, and the channel-wise quantizer; returns the quantizer's output name.
 */
function addChannelWiseTwin(sim: Model, orig: Model, pair: PostLnPair, channelWise: UniformParams): string {
  const g = sim.graph;
  const b = new GraphBuilder(g);
  const rename = new Map<string, string>();
  const src = new Map(orig.graph.nodes.map((n) => [n.name, n]));
  const copy = (n: Node) => {
    const inputs = n.inputs.map((i) => {
      if (i === '' || rename.has(i)) return rename.get(i) ?? i;
      const c = constantTensor(orig.graph, i);
      if (c === undefined) return i; // a value the simulated graph computes too (the LayerNorm input, shapes)
      return b.init(b.namer.fresh(`${i}__twin`), toFloat32OrRaw(c), c.dims, c.dtype);
    });
    const outputs = n.outputs.map((o) => {
      const fresh = b.namer.fresh(`${o}__twin`);
      rename.set(o, fresh);
      return fresh;
    });
    g.addNode(
      new Node({ name: b.namer.fresh(`${n.name}__twin`), opType: n.opType, inputs, outputs, attributes: n.attributes }),
    );
  };
  pair.norm.nodes.forEach(copy);
  pair.path.forEach((name) => copy(src.get(name)!));
  const x = rename.get(pair.tensor)!;
  // The channel axis is the last one, so the rank is one more than the axis.
  const out = emitUniform(b, x, channelWise, channelWise.axis! + 1, `${pair.tensor}__twin_fq`);
  g.topoSort();
  return out;
}

function toFloat32OrRaw(t: Parameters<typeof toFloat32>[0]) {
  if (t.dtype === 'int64')
    return new BigInt64Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  return toFloat32(t);
}

/** Codes q = x̂/s + z (exact integers for a fake-quant output), per channel on the last axis. */
function codes(xhat: Float32Array, scale: readonly number[], zero: readonly number[]): Float32Array {
  const c = scale.length;
  return xhat.map((v, i) => roundHalfEven(v / scale[i % c]! + zero[i % c]!));
}

interface Exactness {
  /** codes of the per-tensor quantizer that differ from the channel-wise ones, over all post-LN tensors */
  differ: number;
  /** mapped-back values that differ from the channel-wise ones by more than 1e-3 of a step */
  differValues: number;
  total: number;
  /** largest |r⊙(x̂' + b) − x̂| in units of the channel's step */
  mappedBackGap: number;
}

/** Compares, in one run of the simulated model, every reparameterized quantizer with its channel-wise twin. */
async function exactness(
  orig: Model,
  simulated: Model,
  records: ReparamRecord[],
  feeds: Feeds,
  roundZeroPoint: boolean,
): Promise<Exactness> {
  const probe = cloneModel(simulated);
  const pairs = findPostLnPairs(cloneModel(orig).graph).pairs;
  const byNode = new Map(probe.graph.nodes.map((n) => [n.name, n]));
  const checks = records.map((rec, i) => {
    const pair = pairs[i]!;
    expect(pair.name).toBe(rec.norm);
    const twin = addChannelWiseTwin(probe, orig, pair, rec.channelWise);
    return { rec, twin, real: byNode.get(rec.consumers[0]!)!.inputs[0]! };
  });
  const prober = await Prober.create(
    probe,
    checks.flatMap((c) => [c.twin, c.real]),
    { threads: 1 },
  );
  const got = await prober.run(feeds);
  await prober.release();
  const result: Exactness = { differ: 0, differValues: 0, total: 0, mappedBackGap: 0 };
  for (const { rec, twin, real } of checks) {
    const cw = rec.channelWise;
    const c = cw.scale.length;
    const xhat = got.get(twin)!.data as Float32Array;
    const xhatT = got.get(real)!.data as Float32Array;
    const qChannel = codes(xhat, cw.scale, cw.zeroPoint);
    const qTensor = codes(xhatT, [rec.scale], [rec.zeroPoint]);
    const f = reparamFactors(cw, roundZeroPoint);
    for (let i = 0; i < xhat.length; i++) {
      if (qChannel[i] !== qTensor[i]) result.differ++;
      const back = f.r[i % c]! * (xhatT[i]! + f.b[i % c]!);
      const gap = Math.abs(back - xhat[i]!) / cw.scale[i % c]!;
      if (gap > 1e-3) result.differValues++;
      result.mappedBackGap = Math.max(result.mappedBackGap, gap);
    }
    result.total += xhat.length;
  }
  return result;
}

const once = (f: Feeds) =>
  async function* () {
    yield f;
  };

describe.each(['tiny-deit-op17', 'tiny-deit-op13', 'tiny-swin-op17', 'tiny-swin-op13'])(
  'reparameterization of %s',
  (name) => {
    it('keeps the float model, and with rounded z~ picks the channel-wise codes on every post-LN tensor', async () => {
      const orig = readModel(fixturePath(`${name}.onnx`));
      const calib = seededImages(orig, 8);
      const r = await runRepqVit(orig, settings(true), once(calib), { threads: 1, exportQdq: false });
      expect(r.records.length).toBe(name.startsWith('tiny-deit') ? 4 : 9);
      // 1. Float equivalence, on other images than the calibration ones.
      const test = seededImages(orig, 4, 99);
      const [a, b] = [await runModel(r.reparameterized, test), await runModel(orig, test)];
      expect(relativeGap(a.logits!, b.logits!)).toBeLessThanOrEqual(1e-5);
      // 2. Exactness: every code equal; mapped back, equal up to float32 rounding.
      const e = await exactness(orig, r.simulated, r.records, calib, true);
      expect(e.total).toBeGreaterThan(1000);
      expect(e.differ).toBe(0);
      expect(e.differValues).toBe(0);
      expect(e.mappedBackGap).toBeLessThan(1e-4);
    });
  },
);

describe('unrounded z~ (the official code)', () => {
  it('keeps the float model but shifts the grid by a fraction of a step: most codes differ', async () => {
    const orig = readModel(fixturePath('tiny-deit-op17.onnx'));
    const calib = seededImages(orig, 8);
    const r = await runRepqVit(orig, settings(false), once(calib), { threads: 1, exportQdq: false });
    expect(r.records.some((rec) => !Number.isInteger(rec.zeroPoint))).toBe(true);
    const test = seededImages(orig, 4, 99);
    const [a, b] = [await runModel(r.reparameterized, test), await runModel(orig, test)];
    expect(relativeGap(a.logits!, b.logits!)).toBeLessThanOrEqual(1e-5);
    const e = await exactness(orig, r.simulated, r.records, calib, false);
    // repq-vit.md §3.4: 99.7 % of the mapped-back values differ, by less than one per-channel step.
    expect(e.differValues / e.total).toBeGreaterThan(0.5);
    expect(e.mappedBackGap).toBeLessThan(1);
  });
});
