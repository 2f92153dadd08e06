// Fake-quant evaluation overhead: the simulated W4/A4 model (minmax; RepQ-ViT where registered) against the FP
// model in ORT, the same batches through both, interleaved round by round.

import { Session, type Feeds } from '../../src/runtime/index.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { benchFeeds, splitFeeds } from '../lib/data.js';
import { hasMethod, quantizeTimed } from '../lib/methods.js';
import { benchModel, describeModel, loadBenchModel } from '../lib/models.js';
import type { Row } from '../lib/results.js';
import { pairedRatio, roundSummary, summarize } from '../lib/stats.js';
import { interleave, timeOnce, type Side } from '../lib/timing.js';

const BITS = { wBits: 4, aBits: 4 };

/** One pass over `batches`: the sample of one round. */
const pass = (s: Session, batches: Feeds[]) => () =>
  timeOnce(async () => {
    for (const b of batches) await s.run(b);
  });

export const fakeQuant: Benchmark = {
  name: 'fake-quant',
  title: 'Fake-quant evaluation overhead: simulated W4/A4 vs FP in ORT',
  async run(ctx: BenchContext) {
    const names = ctx.quick ? ['tiny-deit', 'tiny-unet'] : ['deit-cifar10', 'ddim-fmnist'];
    const rounds = ctx.repeats(7, 2);
    const rows: Row[] = [];
    const results: Record<string, unknown>[] = [];
    const pending: string[] = [];
    for (const name of names) {
      const m = await benchModel(name);
      const model = loadBenchModel(m);
      const calib = await benchFeeds(m, model, 32, { seed: 0 });
      const items = ctx.quick ? 128 : m.arch === 'deit' ? 640 : 256;
      const evalData = await benchFeeds(m, model, items);
      const batches = splitFeeds(evalData.feeds, 64);
      const methods = ['minmax'];
      if (m.arch === 'deit') {
        if (hasMethod('repq-vit')) methods.push('repq-vit');
        else pending.push(`${name}: RepQ-ViT simulated model (repq-vit is not registered yet)`);
      }
      const sessions: Record<string, Session> = { fp: await Session.create(model, { threads: ctx.threads }) };
      const nodes: Record<string, number> = { fp: model.graph.nodes.length };
      for (const method of methods) {
        ctx.log(`fake-quant ${name}: calibrating ${method} W${BITS.wBits}A${BITS.aBits}`);
        const q = await quantizeTimed(loadBenchModel(m), method, calib.feeds, BITS, ctx.threads);
        sessions[method] = await Session.create(q.result.simulated, { threads: ctx.threads });
        nodes[method] = q.result.simulated.graph.nodes.length;
      }
      try {
        const sides: Record<string, Side> = Object.fromEntries(
          Object.entries(sessions).map(([k, s]) => [k, pass(s, batches)]),
        );
        for (const s of Object.values(sides)) await s();
        ctx.log(`fake-quant ${name}: ${rounds} rounds over ${batches.length} batches`);
        const r = await interleave(rounds, sides);
        const fp = summarize(r.samples['fp']!.wall);
        const entry: Record<string, unknown> = {
          model: describeModel(m),
          data: evalData.data,
          calibration: calib.data,
          batches: batches.length,
          batch: 64,
          rounds,
          load: r.load,
          nodes,
          fpSeconds: roundSummary(fp),
        };
        for (const method of methods) {
          const sim = summarize(r.samples[method]!.wall);
          const ratio = sim.median / fp.median;
          entry[method] = {
            seconds: roundSummary(sim),
            cpuSeconds: roundSummary(summarize(r.samples[method]!.cpu)),
            ratioOverFp: Number(ratio.toFixed(3)),
            pairedRatio: roundSummary(pairedRatio(r.samples[method]!.wall, r.samples['fp']!.wall), 3),
          };
          rows.push({
            measure: `${name}: simulated W4/A4 ${method} eval time / FP eval time`,
            value: `${sim.median.toFixed(3)} s vs ${fp.median.toFixed(3)} s for ${items} items (${nodes[method]} vs ${nodes['fp']} nodes)`,
            ratio,
            goal: '≤ 2',
            met: ratio <= 2,
          });
        }
        results.push(entry);
      } finally {
        for (const s of Object.values(sessions)) await s.release();
      }
    }
    return {
      params: { models: names, bits: BITS, rounds, threads: ctx.threads },
      results,
      rows,
      notes: [
        'Fake quantization is standard ONNX ops (weights pre-quantized into float initializers, activations ' +
          'Div/Round/Add/Clip/Sub/Mul chains, log√2 for RepQ-ViT post-Softmax), run by ORT with all graph ' +
          'optimizations; calibration on 32 items, the timed pass over the same evaluation batches for every model.',
      ],
      pending,
    };
  },
};
