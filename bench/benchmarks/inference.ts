// FP32 inference, ORT through quantlens's runtime vs PyTorch eager, on the same architecture and weights, batch 1
// and 64, both on `threads` threads, interleaved round by round.

import { Session } from '../../src/runtime/index.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { randomFeeds } from '../lib/data.js';
import { benchModel, describeModel, loadBenchModel } from '../lib/models.js';
import { TorchServer, torchVersion } from '../lib/python.js';
import type { Row } from '../lib/results.js';
import { pairedRatio, roundSummary, summarize } from '../lib/stats.js';
import { fitInner, interleave, timeMean, type Sampler } from '../lib/timing.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;

export const inference: Benchmark = {
  name: 'inference',
  title: 'FP32 inference: ORT (quantlens runtime) vs PyTorch eager',
  async run(ctx: BenchContext) {
    const names = ctx.quick ? ['tiny-deit', 'tiny-unet'] : ['deit-cifar10', 'ddim-fmnist'];
    const batches = [1, 64];
    const rounds = ctx.repeats(11, 3);
    const rows: Row[] = [];
    const notes: string[] = [];
    const pending: string[] = [];
    const results: Record<string, unknown>[] = [];
    const haveTorch = torchVersion() !== null;
    if (!haveTorch) pending.push('PyTorch side: no torch in this Python (set QUANTLENS_BENCH_PYTHON)');
    for (const name of names) {
      const m = await benchModel(name);
      const model = loadBenchModel(m);
      const session = await Session.create(model, { threads: ctx.threads });
      const torch = haveTorch ? await TorchServer.start([...m.torchArgs, '--threads', String(ctx.threads)]) : null;
      try {
        for (const batch of batches) {
          const feeds = randomFeeds(model, batch, 1);
          // Fast calls are timed in groups so that one sample is well above timer and scheduling noise.
          const samplers: Record<string, Sampler> = { ort: (inner) => timeMean(() => session.run(feeds), inner) };
          if (torch !== null) {
            // PyTorch at the same thread count, and at one thread: on a loaded machine OpenMP's barriers can make
            // two threads slower than one, and the comparison is against PyTorch's better setting.
            const torchAt = (threads: number) => async (inner: number) => {
              await torch.request({ cmd: 'threads', n: threads });
              const t = await torch.time(batch, inner);
              return { wall: mean(t.wall), cpu: mean(t.cpu) };
            };
            samplers['torch'] = torchAt(ctx.threads);
            if (ctx.threads !== 1) samplers['torch1'] = torchAt(1);
          }
          const { sides, inner } = await fitInner(samplers, ctx.quick ? 0.02 : 0.25, ctx.quick ? 5 : 20);
          ctx.log(`inference ${name} batch ${batch}: ${rounds} rounds, calls per sample ${JSON.stringify(inner)}`);
          const r = await interleave(rounds, sides);
          const ort = summarize(r.samples['ort']!.wall);
          const entry: Record<string, unknown> = {
            model: describeModel(m),
            batch,
            callsPerSample: inner,
            rounds,
            load: r.load,
            ortSeconds: roundSummary(ort),
            ortCpuSeconds: roundSummary(summarize(r.samples['ort']!.cpu)),
            ortImagesPerSecond: Math.round(batch / ort.median),
          };
          if (torch !== null) {
            const pt2 = summarize(r.samples['torch']!.wall);
            const pt1 = r.samples['torch1'] === undefined ? undefined : summarize(r.samples['torch1'].wall);
            const best = pt1 !== undefined && pt1.median < pt2.median ? 'torch1' : 'torch';
            const pt = best === 'torch1' ? pt1! : pt2;
            const ratio = pt.median / ort.median;
            Object.assign(entry, {
              torchBestThreads: best === 'torch1' ? 1 : ctx.threads,
              ...(pt1 === undefined
                ? {}
                : {
                    torch1ThreadSeconds: roundSummary(pt1),
                    torch1ThreadCpuSeconds: roundSummary(summarize(r.samples['torch1']!.cpu)),
                  }),
              torchSeconds: roundSummary(pt2),
              torchCpuSeconds: roundSummary(summarize(r.samples['torch']!.cpu)),
              torchImagesPerSecond: Math.round(batch / pt.median),
              ratioTorchOverOrt: Number(ratio.toFixed(3)),
              ratioTorchSameThreadsOverOrt: Number((pt2.median / ort.median).toFixed(3)),
              pairedRatio: roundSummary(pairedRatio(r.samples[best]!.wall, r.samples['ort']!.wall), 3),
              cpuRatioTorchOverOrt: Number(
                (summarize(r.samples[best]!.cpu).median / summarize(r.samples['ort']!.cpu).median).toFixed(3),
              ),
              torchInfo: torch.header,
            });
            rows.push({
              measure: `${name} (${m.source}) batch ${batch}: PyTorch eager time / ORT time`,
              value:
                `ORT ${ms(ort.median)}, PyTorch ${ms(pt2.median)} (${ctx.threads} threads)` +
                (pt1 === undefined ? '' : ` / ${ms(pt1.median)} (1 thread)`) +
                ' per batch',
              ratio,
              goal: '> 1 (ORT faster)',
              met: ratio > 1,
            });
          } else rows.push({ measure: `${name} batch ${batch}: ORT time`, value: `${ms(ort.median)} per batch` });
          results.push(entry);
        }
      } finally {
        await session.release();
        await torch?.stop();
      }
      if (m.source !== 'shipped' && !ctx.quick)
        pending.push(`${name}: models/${name}.onnx not shipped yet; timed a random-weight export of the same config`);
    }
    notes.push(
      `ORT on ${ctx.threads} intra-op threads; PyTorch on ${ctx.threads} threads and on 1 (the ratio takes the faster ` +
        'of the two: on a loaded machine OpenMP barrier waits make 2 threads slower than 1); the same module and weights ' +
        '(tools/make_scale_models.py exports the ONNX and saves the state dict that tools/bench_torch.py loads), ' +
        'seeded random inputs; medians over interleaved rounds; a sample is the mean of as many back-to-back calls as ' +
        'fill about 0.25 s (at most 20; callsPerSample in the JSON).',
    );
    return { params: { models: names, batches, rounds, threads: ctx.threads }, results, rows, notes, pending };
  },
};
