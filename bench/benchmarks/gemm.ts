// How close FP evaluation is to the machine's physical limit: the achieved GFLOP/s of a float32 MatMul
// microbenchmark in ORT (the measured peak) against the achieved GFLOP/s of the models' FP evaluation, with FLOPs
// counted from the graph (MatMul/Gemm/Conv, shapes probed), interleaved so both see the same load.

import { GraphBuilder, makeModel } from '../../src/onnx/builder.js';
import { Session } from '../../src/runtime/index.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { randn, randomFeeds } from '../lib/data.js';
import { countFlops } from '../lib/flops.js';
import { benchModel, describeModel, loadBenchModel } from '../lib/models.js';
import type { Row } from '../lib/results.js';
import { roundSummary, sig, summarize } from '../lib/stats.js';
import { interleave, timeMean, type Side } from '../lib/timing.js';

export function matmulModel(n: number) {
  const b = new GraphBuilder();
  const a = b.input('a', 'float32', [n, n]);
  const w = b.input('b', 'float32', [n, n]);
  b.output(b.op('MatMul', [a, w]), 'float32', [n, n]);
  return makeModel(b.graph);
}

export const gemm: Benchmark = {
  name: 'gemm',
  title: 'GEMM-bound figure: achieved GFLOP/s of FP evaluation vs a MatMul microbenchmark',
  async run(ctx: BenchContext) {
    const sizes = ctx.quick ? [256] : [512, 1024, 2048];
    const names = ctx.quick ? ['tiny-deit'] : ['deit-cifar10', 'ddim-fmnist'];
    const batch = 64;
    const rounds = ctx.repeats(9, 3);
    const sessions: Session[] = [];
    const sides: Record<string, Side> = {};
    const flops: Record<string, number> = {};
    const models: Record<string, unknown> = {};
    try {
      for (const n of sizes) {
        const s = await Session.create(matmulModel(n), { threads: ctx.threads });
        sessions.push(s);
        const feeds = {
          a: { dtype: 'float32' as const, dims: [n, n], data: randn(n * n, 1) },
          b: { dtype: 'float32' as const, dims: [n, n], data: randn(n * n, 2) },
        };
        const inner = Math.max(1, Math.round((1024 / n) ** 3));
        sides[`matmul${n}`] = () => timeMean(() => s.run(feeds), inner);
        flops[`matmul${n}`] = 2 * n ** 3;
      }
      for (const name of names) {
        const m = await benchModel(name);
        const model = loadBenchModel(m);
        const count = await countFlops(model, randomFeeds(model, 1, 3), { threads: ctx.threads });
        const s = await Session.create(model, { threads: ctx.threads });
        sessions.push(s);
        const feeds = randomFeeds(model, batch, 1);
        sides[name] = () => timeMean(() => s.run(feeds));
        flops[name] = count.perItem * batch;
        models[name] = {
          ...describeModel(m),
          graphFlopsPerItem: count.perItem,
          graphFlopsByOp: count.byOp,
          countedNodes: count.nodes,
        };
      }
      for (const s of Object.values(sides)) await s();
      ctx.log(`gemm: ${rounds} rounds of ${Object.keys(sides).join(', ')}`);
      const r = await interleave(rounds, sides);
      const gflops: Record<string, ReturnType<typeof summarize>> = {};
      for (const [k, v] of Object.entries(r.samples)) gflops[k] = summarize(v.wall.map((t) => flops[k]! / t / 1e9));
      const peakKey = sizes.map((n) => `matmul${n}`).reduce((a, b) => (gflops[b]!.median > gflops[a]!.median ? b : a));
      const peak = gflops[peakKey]!.median;
      const rows: Row[] = [
        {
          measure: `ORT float32 MatMul microbenchmark (${ctx.threads} threads), best size ${peakKey.slice(6)}`,
          value: `${peak.toFixed(1)} GFLOP/s (measured peak)`,
        },
      ];
      for (const name of names) {
        const g = gflops[name]!.median;
        rows.push({
          measure: `${name} FP32 evaluation, batch ${batch}: achieved GFLOP/s / measured MatMul peak`,
          value: `${g.toFixed(1)} GFLOP/s of ${peak.toFixed(1)} (${sig(flops[name]! / batch / 1e9, 4)} GFLOP/image from the graph)`,
          ratio: g / peak,
        });
      }
      return {
        params: { sizes, models: names, batch, rounds, threads: ctx.threads },
        results: {
          load: r.load,
          gflops: Object.fromEntries(Object.entries(gflops).map(([k, v]) => [k, roundSummary(v)])),
          seconds: Object.fromEntries(Object.entries(r.samples).map(([k, v]) => [k, roundSummary(summarize(v.wall))])),
          flops,
          peak: { key: peakKey, gflops: sig(peak) },
          models,
        },
        rows,
        notes: [
          'FLOPs: 2 per multiply-accumulate of every MatMul, Gemm and Conv, shapes probed on one input; ' +
            'LayerNorm, Softmax, GELU, GroupNorm and elementwise ops are not counted, so the fraction is a lower ' +
            'bound on how busy the arithmetic units are. The MatMul samples and the model passes alternate, so ' +
            'both see the same load.',
        ],
        pending: [],
      };
    } finally {
      for (const s of sessions) await s.release();
    }
  },
};
