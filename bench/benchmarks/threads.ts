// ORT thread settings on this machine: intra-op threads = cores with spinning (ORT's default, what quantlens uses),
// the same without spinning, and one thread; FP evaluation at batch 1 and 64, interleaved. On a machine with more
// runnable threads than cores, a spinning thread burns the time slice its partner needs to reach the barrier.

import { Session } from '../../src/runtime/index.js';
import type { SessionOptions } from '../../src/runtime/index.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { randomFeeds } from '../lib/data.js';
import { benchModel, describeModel, loadBenchModel } from '../lib/models.js';
import type { Row } from '../lib/results.js';
import { roundSummary, summarize } from '../lib/stats.js';
import { fitInner, interleave, timeMean, type Sampler } from '../lib/timing.js';

const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;

export const threads: Benchmark = {
  name: 'threads',
  title: 'ORT thread settings: spinning vs not, 2 threads vs 1 (FP evaluation)',
  async run(ctx: BenchContext) {
    const names = ctx.quick ? ['tiny-deit'] : ['deit-cifar10', 'ddim-fmnist'];
    const rounds = ctx.repeats(11, 3);
    const configs: Record<string, SessionOptions> = {
      [`t${ctx.threads}-spin`]: { threads: ctx.threads },
      [`t${ctx.threads}-nospin`]: { threads: ctx.threads, spinning: false },
      t1: { threads: 1 },
    };
    const base = `t${ctx.threads}-spin`;
    const rows: Row[] = [];
    const results: Record<string, unknown>[] = [];
    for (const name of names) {
      const m = await benchModel(name);
      const model = loadBenchModel(m);
      const sessions: Record<string, Session> = {};
      for (const [k, o] of Object.entries(configs)) sessions[k] = await Session.create(model, o);
      try {
        for (const batch of [1, 64]) {
          const feeds = randomFeeds(model, batch, 1);
          const samplers: Record<string, Sampler> = Object.fromEntries(
            Object.entries(sessions).map(([k, s]) => [k, (n: number) => timeMean(() => s.run(feeds), n)]),
          );
          const { sides, inner } = await fitInner(samplers, ctx.quick ? 0.02 : 0.25, ctx.quick ? 5 : 20);
          ctx.log(`threads ${name} batch ${batch}: ${rounds} rounds, calls per sample ${JSON.stringify(inner)}`);
          const r = await interleave(rounds, sides);
          const med = Object.fromEntries(Object.entries(r.samples).map(([k, v]) => [k, summarize(v.wall)]));
          results.push({
            model: describeModel(m),
            batch,
            rounds,
            callsPerSample: inner,
            load: r.load,
            seconds: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, roundSummary(v)])),
          });
          const b = med[base]!.median;
          rows.push({
            measure: `${name} batch ${batch}: default (${base}) time / time with each setting`,
            value: Object.entries(med)
              .map(([k, v]) => `${k} ${ms(v.median)}`)
              .join(', '),
            ratio: Math.max(...Object.values(med).map((v) => b / v.median)),
          });
        }
      } finally {
        for (const s of Object.values(sessions)) await s.release();
      }
    }
    return {
      params: { models: names, configs, rounds },
      results,
      rows,
      notes: [
        'Ratio: how much faster the best setting is than the default (1.00x: the default is best). ' +
          'Spinning is ORT session option session.intra_op.allow_spinning (src/runtime SessionOptions.spinning).',
      ],
      pending: [],
    };
  },
};
