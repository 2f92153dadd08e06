// One workload for the profile benchmark, run as `node --import tsx bench/profile-target.ts TASK MODEL [OUT]`:
// calibration with a registered method (calib:METHOD), or evaluation over CIFAR-10 JPEGs as `quantlens eval` does
// it, decoding included (eval:fp, eval:METHOD for the simulated model). The V8 sampling profiler runs only around
// the workload (module loading and set-up excluded) and writes OUT (.cpuprofile). Prints one JSON line.

import { writeFileSync } from 'node:fs';
import { Session as Inspector } from 'node:inspector/promises';
import { ensureCifar10, LABELS_ARRAY, openDataset, tensorDataset } from '../src/data/index.js';
import type { Model } from '../src/onnx/ir.js';
import { evaluateClassification } from '../src/eval/classification.js';
import { benchFeeds, randomFeeds, usesCifar } from './lib/data.js';
import { quantizeTimed } from './lib/methods.js';
import { benchModel, loadBenchModel } from './lib/models.js';
import { timeOnce } from './lib/timing.js';

const [task, name, out] = process.argv.slice(2);
if (task === undefined || name === undefined)
  throw new Error('usage: profile-target.ts calib:METHOD|eval:fp|eval:METHOD MODEL');
const threads = Number(process.env['QUANTLENS_BENCH_THREADS'] ?? 2);
const m = await benchModel(name);
const model = loadBenchModel(m);
const calib = await benchFeeds(m, model, 32, { seed: 0 });
const [kind, what] = task.split(':') as [string, string];
const items = Number(process.env['QUANTLENS_BENCH_EVAL_ITEMS'] ?? 2000);

function randomDataset(target: Model, n: number) {
  const image = Object.values(randomFeeds(target, n, 5))[0]!;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return tensorDataset(
    new Map([
      ['image', image],
      [LABELS_ARRAY, { dtype: 'int32' as const, dims: [n], data: labels }],
    ]),
    'random images',
  );
}

const inspector = new Inspector();
inspector.connect();
async function profiled<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
  let value: T | undefined;
  const t = await timeOnce(async () => {
    value = await fn();
  });
  const { profile } = await inspector.post('Profiler.stop');
  if (out !== undefined) writeFileSync(out, JSON.stringify(profile));
  return { value: value as T, ...t };
}

let result: Record<string, unknown>;
if (kind === 'calib') {
  const r = await profiled(() => quantizeTimed(model, what, calib.feeds, { wBits: 4, aBits: 4 }, threads));
  result = { wall: r.wall, cpu: r.cpu, calibSeconds: r.value.result.calibSeconds };
} else {
  const target =
    what === 'fp'
      ? model
      : (await quantizeTimed(loadBenchModel(m), what, calib.feeds, { wBits: 4, aBits: 4 }, threads)).result.simulated;
  const p = m.preprocess;
  // CIFAR-10 JPEGs where the model takes them and they are at hand (decoding is part of what eval costs);
  // otherwise random images with labels, in memory (the fixtures, or CI without ../shared).
  const ds =
    p !== undefined && usesCifar(m, 'test')
      ? await openDataset(await ensureCifar10('test'), {
          preprocess: { size: p.size, channels: 3, mean: p.mean, std: p.std },
        })
      : randomDataset(model, items);
  const r = await profiled(() => evaluateClassification(target, ds, { threads, batch: 64, limit: items }));
  result = { wall: r.wall, cpu: r.cpu, items: r.value.n, ortImagesPerSec: r.value.imagesPerSec };
}
inspector.disconnect();
console.log(JSON.stringify({ task, model: name, ...result }));
