// RepQ-ViT results in the paper's table form: the post-LayerNorm ablation, the post-Softmax ablation and the
// main table (FP, min-max, RepQ-ViT at W4/A4 and W6/A6), each with calibration time, on the shipped ViTs at both
// opsets and their full test sets; then a check of the paper's claims against our numbers, said plainly.
//
//   tsx bench/repq-vit-results.ts [--models a,b,...] [--limit N] [--data D] [--calib 32] [--seed 0]
//                                 [--threads 2] [--batch 128] [--out docs/results/repq-vit.md]
//
// --models takes manifest names or .onnx paths (default: deit-cifar10, swin-cifar10, deit-fmnist, each at opsets 17
// and 13, plus their stress variants where the manifest has them). Before the models are shipped, run it on the
// fixtures: --models fixtures/tiny-deit-op17.onnx,... --data fashion-mnist --limit 500. Writes the Markdown file and
// a JSON of every run beside it.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { materialize } from '../src/data/materialize.js';
import { spreadIndices } from '../src/eval/subset.js';
import { evaluateClassification } from '../src/eval/classification.js';
import { getMethod } from '../src/methods/registry.js';
import type { SweepRow } from '../src/methods/sweep.js';
import { loadManifest } from '../src/models/manifest.js';
import { paperTable, type TableCell } from '../src/report/paper-table.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import type { Parsed } from '../src/cli/args.js';
import { openCalibData } from '../src/cli/calib-data.js';
import { loadModel, resolvePreprocess } from '../src/cli/common.js';
import { openDataArg } from '../src/cli/data-arg.js';
import { withVersions } from '../src/cli/output.js';

const BASE_MODELS = ['deit-cifar10', 'swin-cifar10', 'deit-fmnist'];

interface RunSpec {
  id: string;
  method: 'minmax' | 'repq-vit';
  wBits: number;
  aBits: number;
  options?: Record<string, string | boolean>;
}

const RUNS: RunSpec[] = [
  { id: 'minmax-4', method: 'minmax', wBits: 4, aBits: 4 },
  { id: 'minmax-6', method: 'minmax', wBits: 6, aBits: 6 },
  { id: 'ln-layer', method: 'repq-vit', wBits: 4, aBits: 4, options: { postLn: 'layer' } },
  { id: 'ln-channel', method: 'repq-vit', wBits: 4, aBits: 4, options: { postLn: 'channel' } },
  { id: 'repq-4', method: 'repq-vit', wBits: 4, aBits: 4 },
  { id: 'sm-uniform', method: 'repq-vit', wBits: 4, aBits: 4, options: { postSoftmax: 'uniform' } },
  { id: 'sm-log2', method: 'repq-vit', wBits: 4, aBits: 4, options: { postSoftmax: 'log2' } },
  { id: 'sm-logsqrt2', method: 'repq-vit', wBits: 4, aBits: 4, options: { postSoftmax: 'logsqrt2' } },
  { id: 'repq-6', method: 'repq-vit', wBits: 6, aBits: 6 },
];

interface Row extends SweepRow {
  model: string;
  id: string;
  calibration?: unknown;
}

interface Args {
  models: string[];
  limit?: number;
  data?: string;
  calib: string;
  seed: string;
  threads: number;
  batch: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { models: [], calib: '32', seed: '0', threads: 2, batch: 128, out: 'docs/results/repq-vit.md' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--models')
      a.models = v()
        .split(',')
        .filter((s) => s !== '');
    else if (k === '--limit') a.limit = Number(v());
    else if (k === '--data') a.data = v();
    else if (k === '--calib') a.calib = v();
    else if (k === '--seed') a.seed = v();
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--batch') a.batch = Number(v());
    else if (k === '--out') a.out = v();
    else throw new Error(`unknown option ${k}`);
  }
  if (a.models.length === 0) a.models = defaultModels();
  return a;
}

/** The shipped ViTs at both opsets, and stress variants of them where the manifest lists some. */
function defaultModels(): string[] {
  const entries = loadManifest()?.models ?? [];
  const names = BASE_MODELS.flatMap((m) => [m, `${m}-op13`]);
  const stress = entries.filter((e) => e.variantOf !== null && BASE_MODELS.some((b) => e.variantOf!.startsWith(b)));
  return [...names, ...stress.map((e) => e.name).filter((n) => !names.includes(n))];
}

const log = (s: string) => process.stderr.write(`${s}\n`);

async function runModel(ref: string, a: Args): Promise<{ name: string; fp: Row; rows: Row[] } | string> {
  let loaded;
  try {
    loaded = loadModel(ref);
  } catch (e) {
    return `${ref}: ${(e as Error).message}`;
  }
  const name = loaded.entry?.name ?? ref.replace(/^.*\//, '').replace(/\.onnx$/, '');
  const values: Parsed['values'] = { calib: a.calib, seed: a.seed };
  if (a.data !== undefined) values.data = a.data;
  const p: Parsed = { values, positionals: [], help: false };
  const testArg = a.data ?? loaded.info.dataset;
  if (testArg === undefined) return `${name}: no dataset recorded; pass --data`;
  const test = await openDataArg(p, testArg, 'test', resolvePreprocess(loaded, true), loaded.info.labels);
  const indices = spreadIndices(test.size, a.limit);
  const held = await materialize(test, indices === undefined ? {} : { indices });
  const calib = await openCalibData(p, loaded, true);
  const evalOpts = { threads: a.threads, batch: a.batch };
  const fpEval = await evaluateClassification(loaded.model, held, evalOpts);
  const fp: Row = {
    model: name,
    id: 'fp',
    label: 'fp',
    method: 'fp',
    wBits: 32,
    aBits: 32,
    ...pick(fpEval),
    calibSeconds: 0,
  };
  log(`${name}: FP top-1 ${(fp.top1 * 100).toFixed(2)}% on ${fp.n} images`);
  const rows: Row[] = [];
  for (const r of RUNS) {
    const result = await getMethod(r.method)(loaded.model, calib.feeds, {
      threads: a.threads,
      wBits: r.wBits,
      aBits: r.aBits,
      ...(r.options === undefined ? {} : { options: r.options }),
    });
    const ev = await evaluateClassification(result.simulated, held, evalOpts);
    const repq = (result.extra as { repqVit?: { calibration: unknown } } | undefined)?.repqVit;
    rows.push({
      model: name,
      id: r.id,
      label: r.id,
      method: r.method,
      wBits: r.wBits,
      aBits: r.aBits,
      ...pick(ev),
      calibSeconds: result.calibSeconds,
      ...(repq === undefined ? {} : { calibration: repq.calibration }),
    });
    log(`${name}: ${r.id} top-1 ${(ev.top1 * 100).toFixed(2)}%, calibration ${result.calibSeconds.toFixed(2)} s`);
  }
  return { name, fp, rows };
}

const pick = (e: { top1: number; top5: number; n: number }) => ({ top1: e.top1, top5: e.top5, n: e.n });

/** Cells of the runs named in `labels`, rows in the order of `labels`. */
function cellsFor(rows: Row[], labels: Record<string, string>): TableCell[] {
  const order = Object.keys(labels);
  return rows
    .filter((r) => r.id in labels)
    .sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id))
    .map((r) => ({
      model: r.model,
      label: labels[r.id]!,
      bits: `${r.wBits}/${r.aBits}`,
      top1: r.top1,
      calibSeconds: r.calibSeconds,
    }));
}

const pts = (x: number) => `${(x * 100).toFixed(2)}`;

/** The paper's claims, checked per model; every line says whether it holds here and by how much. */
function claims(models: string[], rows: Row[]): string[] {
  const at = (m: string, id: string) => rows.find((r) => r.model === m && r.id === id);
  const out: string[] = [];
  for (const m of models) {
    const [layer, channel, repq, log2, sqrt2, shift, repq6, fp] = [
      'ln-layer',
      'ln-channel',
      'repq-4',
      'sm-log2',
      'sm-logsqrt2',
      'repq-4',
      'repq-6',
      'fp',
    ].map((id) => at(m, id));
    if (layer === undefined || channel === undefined || repq === undefined || fp === undefined) continue;
    const gapCh = (channel.top1 - repq.top1) * 100;
    const overLayer = (repq.top1 - layer.top1) * 100;
    const gap6 = repq6 === undefined ? NaN : (fp.top1 - repq6.top1) * 100;
    const yes = (b: boolean) => (b ? 'holds' : '**does not hold**');
    out.push(
      `- **${m}**: reparam within 1.5 points of channel-wise: ${yes(gapCh <= 1.5)} (${pts(repq.top1)} vs ${pts(channel.top1)}, ${Math.abs(gapCh).toFixed(2)} points ${gapCh >= 0 ? 'below' : 'above'}); ` +
        `far above layer-wise (5 points or more): ${yes(overLayer >= 5)} (${overLayer >= 0 ? '+' : ''}${overLayer.toFixed(2)} points); ` +
        `log-√2 at or above log2: ${log2 === undefined || sqrt2 === undefined ? 'n/a' : `${yes(sqrt2.top1 >= log2.top1)} (${pts(sqrt2.top1)} vs ${pts(log2.top1)})`}; ` +
        `reparam (bit-shift form) = log-√2: ${shift === undefined || sqrt2 === undefined ? 'n/a' : shift.top1 === sqrt2.top1 ? 'identical, as by construction' : `**differs** (${pts(shift.top1)} vs ${pts(sqrt2.top1)})`}; ` +
        `W6/A6 within 1.5 points of FP: ${Number.isNaN(gap6) ? 'n/a' : `${yes(gap6 <= 1.5)} (${pts(repq6!.top1)} vs ${pts(fp.top1)})`}.`,
    );
  }
  return out;
}

function calibrationDetails(rows: Row[]): string {
  const lines = rows
    .filter((r) => r.id === 'repq-4' && r.calibration !== undefined)
    .map((r) => {
      const c = r.calibration as { images: number; runs: number; sessions: number; quantizers: number };
      return `| ${r.model} | ${c.images} | ${c.quantizers} | ${c.runs} | ${c.sessions} | ${r.calibSeconds.toFixed(2)} |`;
    });
  return [
    '| Model | images | activation quantizers | ORT runs (depth levels) | ORT sessions | seconds (both passes) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...lines,
  ].join('\n');
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const command = `tsx bench/repq-vit-results.ts ${process.argv.slice(2).join(' ')}`.trim();
  const rows: Row[] = [];
  const models: string[] = [];
  const missing: string[] = [];
  const started = Date.now();
  for (const ref of a.models) {
    const r = await runModel(ref, a);
    if (typeof r === 'string') {
      missing.push(r);
      log(`skipped ${r}`);
      continue;
    }
    models.push(r.name);
    rows.push(r.fp, ...r.rows);
  }
  const n = [...new Set(rows.map((r) => r.n))];
  const shipped = new Set((loadManifest()?.models ?? []).map((e) => e.name));
  const unshipped = models.filter((m) => !shipped.has(m));
  const t1 = cellsFor(rows, {
    'ln-layer': 'Layer-wise quant.',
    'ln-channel': 'Channel-wise quant. (simulation only)',
    'repq-4': 'Scale reparam. (RepQ-ViT)',
  });
  const t2 = cellsFor(rows, {
    'sm-uniform': 'Uniform (quantile-MSE)',
    'sm-log2': 'Log2',
    'sm-logsqrt2': 'Log-√2',
    'repq-4': 'Log-√2 reparam. to log2 (RepQ-ViT)',
  });
  const main = cellsFor(rows, {
    fp: 'Full precision',
    'minmax-4': 'Min-max (linear PTQ)',
    'minmax-6': 'Min-max (linear PTQ)',
    'repq-4': 'RepQ-ViT',
    'repq-6': 'RepQ-ViT',
  });
  const md = [
    '# RepQ-ViT on the shipped models',
    '',
    `Produced by \`${command}\` in ${((Date.now() - started) / 60000).toFixed(1)} min. Calibration: ${a.calib} images of the training split, seed ${a.seed}, as one batch; evaluation: ${n.join('/')} test images per model${a.limit === undefined ? ' (the full test set)' : ` (--limit ${a.limit}, spread over the test set)`}. Top-1 in percent; calibration time in seconds is both passes (weights, the sequential activation pass, reparameterization, re-fit of the re-scaled weights), without building the simulated model and the QDQ export.`,
    '',
    'Settings as the official code (../shared/specs/repq-vit.md): quantile-MSE search with 3 candidates for weights (per output channel) and activations (per tensor), the patch-embedding input at 8 bits, post-LayerNorm inputs (qkv, fc1, patch merging reduction) per channel during calibration, post-Softmax log-√2, z~ unrounded. Min-max is the plain linear baseline (per-channel weights, per-tensor activations, every input at the nominal bits).',
    '',
    ...(missing.length === 0 ? [] : ['Not run:', '', ...missing.map((m) => `- ${m}`), '']),
    ...(unshipped.length === 0
      ? []
      : [
          `Not shipped models (${unshipped.join(', ')}): random-weight test fixtures, accuracy at chance level; their rows only show that every variant runs end to end, and their claims below mean nothing.`,
          '',
        ]),
    '## Table 1: post-LayerNorm activations (W4/A4, post-Softmax: RepQ-ViT)',
    '',
    paperTable(t1, models),
    '## Table 2: post-Softmax activations (W4/A4, post-LayerNorm: reparameterized)',
    '',
    paperTable(t2, models),
    '## Main table',
    '',
    paperTable(main, models),
    "## The paper's claims on these models",
    '',
    ...claims(models, rows),
    '',
    '## Calibration of RepQ-ViT W4/A4',
    '',
    calibrationDetails(rows),
    '',
    'The sequential pass runs one small ORT session per depth level over only the nodes that level adds (about one forward pass of compute in all); see src/methods/repq-vit/sequential.ts.',
    '',
  ].join('\n');
  const out = resolve(a.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, md);
  writeFileAtomic(
    out.replace(/\.md$/, '.json'),
    JSON.stringify(withVersions({ command, rows, missing }), null, 2) + '\n',
  );
  log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
