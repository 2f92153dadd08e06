// FP32 inference, ORT through quantlens's runtime vs PyTorch eager, on the same architecture and weights, batch 1
// and 64, interleaved round by round. Each side runs at several thread settings (on a machine with more busy
// threads than cores, 1 thread or no spinning can beat 2), and the headline compares each side's best setting;
// the ratio at `threads` threads each (both sides' defaults) is reported too.

import { Session, type SessionOptions } from '../../src/runtime/index.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { randomFeeds } from '../lib/data.js';
import { benchModel, describeModel, loadBenchModel } from '../lib/models.js';
import { TorchServer, torchVersion } from '../lib/python.js';
import type { Row } from '../lib/results.js';
import { pairedRatio, roundSummary, summarize, type Summary } from '../lib/stats.js';
import { fitInner, interleave, timeMean, type Sampler } from '../lib/timing.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;

/** The fastest of the settings whose key starts with `prefix`. */
function best(med: Record<string, Summary>, prefix: string): [string, Summary] {
  return Object.entries(med)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((a, b) => (b[1].median < a[1].median ? b : a));
}

export const inference: Benchmark = {
  name: 'inference',
  title: 'FP32 inference: ORT (quantlens runtime) vs PyTorch eager',
  async run(ctx: BenchContext) {
    const names = ctx.quick ? ['tiny-deit', 'tiny-unet'] : ['deit-cifar10', 'ddim-fmnist'];
    const batches = [1, 64];
    const rounds = ctx.repeats(11, 3);
    const t = ctx.threads;
    const ortSettings: Record<string, SessionOptions> = { [`ort-t${t}`]: { threads: t } };
    if (t > 1) {
      ortSettings[`ort-t${t}-nospin`] = { threads: t, spinning: false };
      ortSettings['ort-t1'] = { threads: 1 };
    }
    const torchSettings = t > 1 ? [t, 1] : [1];
    const rows: Row[] = [];
    const pending: string[] = [];
    const results: Record<string, unknown>[] = [];
    const haveTorch = torchVersion() !== null;
    if (!haveTorch) pending.push('PyTorch side: no torch in this Python (set QUANTLENS_BENCH_PYTHON)');
    for (const name of names) {
      const m = await benchModel(name);
      const model = loadBenchModel(m);
      const sessions: Record<string, Session> = {};
      for (const [k, o] of Object.entries(ortSettings)) sessions[k] = await Session.create(model, o);
      const torch = haveTorch ? await TorchServer.start([...m.torchArgs, '--threads', String(t)]) : null;
      try {
        for (const batch of batches) {
          const feeds = randomFeeds(model, batch, 1);
          const samplers: Record<string, Sampler> = {};
          for (const [k, s] of Object.entries(sessions)) samplers[k] = (n) => timeMean(() => s.run(feeds), n);
          if (torch !== null)
            for (const threads of torchSettings)
              samplers[`torch-t${threads}`] = async (n) => {
                await torch.request({ cmd: 'threads', n: threads });
                const r = await torch.time(batch, n);
                return { wall: mean(r.wall), cpu: mean(r.cpu) };
              };
          // Fast calls are timed in groups so that one sample is well above timer and scheduling noise.
          const { sides, inner } = await fitInner(samplers, ctx.quick ? 0.02 : 0.25, ctx.quick ? 5 : 20);
          ctx.log(`inference ${name} batch ${batch}: ${rounds} rounds, calls per sample ${JSON.stringify(inner)}`);
          const r = await interleave(rounds, sides);
          const med: Record<string, Summary> = {};
          for (const [k, v] of Object.entries(r.samples)) med[k] = summarize(v.wall);
          const cpu = Object.fromEntries(
            Object.entries(r.samples).map(([k, v]) => [k, roundSummary(summarize(v.cpu))]),
          );
          const [ortKey, ort] = best(med, 'ort');
          const entry: Record<string, unknown> = {
            model: describeModel(m),
            batch,
            rounds,
            callsPerSample: inner,
            load: r.load,
            seconds: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, roundSummary(v)])),
            cpuSeconds: cpu,
            bestOrt: ortKey,
            ortImagesPerSecond: Math.round(batch / ort.median),
          };
          if (torch !== null) {
            const [torchKey, pt] = best(med, 'torch');
            const ratio = pt.median / ort.median;
            const sameThreads = med[`torch-t${t}`]!.median / med[`ort-t${t}`]!.median;
            Object.assign(entry, {
              bestTorch: torchKey,
              torchImagesPerSecond: Math.round(batch / pt.median),
              ratioBestTorchOverBestOrt: Number(ratio.toFixed(3)),
              ratioAtThreads: { threads: t, torchOverOrt: Number(sameThreads.toFixed(3)) },
              pairedRatio: roundSummary(pairedRatio(r.samples[torchKey]!.wall, r.samples[ortKey]!.wall), 3),
              cpuRatio: Number(
                (summarize(r.samples[torchKey]!.cpu).median / summarize(r.samples[ortKey]!.cpu).median).toFixed(3),
              ),
              torchInfo: torch.header,
            });
            rows.push({
              measure: `${name} (${m.source}) batch ${batch}: PyTorch eager time / ORT time, each at its best setting`,
              value:
                `ORT ${ms(ort.median)} (${ortKey}), PyTorch ${ms(pt.median)} (${torchKey}); ` +
                `at ${t} threads each ${sameThreads.toFixed(2)}x`,
              ratio,
              goal: '> 1 (ORT faster)',
              met: ratio > 1,
            });
          } else rows.push({ measure: `${name} batch ${batch}: ORT time`, value: `${ms(ort.median)} (${ortKey})` });
          results.push(entry);
        }
      } finally {
        for (const s of Object.values(sessions)) await s.release();
        await torch?.stop();
      }
      if (m.source !== 'shipped' && !ctx.quick)
        pending.push(`${name}: models/${name}.onnx not shipped yet; timed a random-weight export of the same config`);
    }
    const notes = [
      `ORT at ${Object.keys(ortSettings).join(', ')} (intra-op threads; nospin: no spinning between ops), PyTorch at ` +
        `${torchSettings.map((n) => `torch.set_num_threads(${n})`).join(' and ')}; the ratio compares each ` +
        `side's fastest setting (per setting medians and CPU times in the JSON). The same module and weights ` +
        '(tools/make_scale_models.py exports the ONNX and saves the state dict that tools/bench_torch.py loads), ' +
        'seeded random inputs; a sample is the mean of as many back-to-back calls as fill about 0.25 s (at most ' +
        '20; callsPerSample in the JSON).',
    ];
    return {
      params: { models: names, batches, rounds, ortSettings, torchThreads: torchSettings },
      results,
      rows,
      notes,
      pending,
    };
  },
};
