// Paper-sized models through the CLI: random-weight DeiT-S (22M) and ViT-B (86M) at 224x224 and the 36M DDIM
// CIFAR-10 UNet, made by tools/make_scale_models.py into the cache. Time and peak resident memory of inspect,
// analyze (32 inputs), quantize minmax, quantize repq-vit (the ViTs) and 1,000 image forward passes.
// Slow: resumable (finished steps are kept in the cache and skipped; --fresh redoes them, --jobs REGEX picks
// steps), never part of --quick. Run it in the background:
//   nohup npm run bench -- --only scale > ~/.cache/quantlens/bench/logs/scale.log 2>&1 &

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { buildCliSnapshot, runCli, type CliRun, type CliSnapshot } from '../lib/cli.js';
import { loadNow, type MachineInfo } from '../lib/machine.js';
import { benchCacheDir, ensureRandomModels } from '../lib/models.js';
import type { Row } from '../lib/results.js';

const MODELS = ['deit-s', 'ddim-cifar10', 'vit-b'] as const;
const VITS = new Set(['deit-s', 'vit-b']);
/** The issue's memory limits for analyze and RepQ-ViT quantize. */
const LIMIT_MIB: Record<string, number> = { 'deit-s': 4096, 'vit-b': 8192 };
const IMAGENET = ['--size', '224', '--mean', '0.485,0.456,0.406', '--std', '0.229,0.224,0.225'];
const TIMEOUT_MS = Number(process.env['QUANTLENS_BENCH_SCALE_TIMEOUT_S'] ?? 7200) * 1000;

interface Job {
  id: string;
  model: string;
  step: string;
  args: string[];
  /** what one run amounts to, for the table */
  unit?: { images: number; what: string };
  /** run after every model's main steps */
  extra?: boolean;
}

interface JobRecord extends CliRun {
  id: string;
  model: string;
  step: string;
  ranAt: string;
  load: { start: MachineInfo['loadavg']; end: MachineInfo['loadavg'] };
  cli: Pick<CliSnapshot, 'builtAt' | 'tscStatus'>;
  unit?: Job['unit'];
}

interface State {
  jobs: Record<string, JobRecord>;
}

function cliHelp(bin: string, command?: string): string {
  const r = spawnSync(process.execPath, [bin, ...(command === undefined ? [] : [command]), '--help'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout : '';
}

function jobsFor(model: string, dir: string, out: string, help: { repq: boolean; analyze: boolean }): Job[] {
  const onnx = join(dir, `${model}.onnx`);
  const vit = VITS.has(model);
  const data = vit ? ['--data', 'cifar10', ...IMAGENET] : ['--data', join(dir, `${model}.calib.npz`)];
  const common = ['--threads', '2', '--json'];
  const bits = ['--w-bits', '4', '--a-bits', '4', '--calib', '32'];
  const q = (method: string, calibBatch?: number): Job => {
    const batched = calibBatch === undefined ? '' : `-calib-batch-${calibBatch}`;
    return {
      id: `${model}/quantize-${method}${batched}`,
      model,
      step: `quantize --method ${method} W4/A4${calibBatch === undefined ? '' : ` --calib-batch ${calibBatch}`}`,
      args: ['quantize', onnx, '--method', method, ...bits, ...data, ...common]
        .concat(calibBatch === undefined ? [] : ['--calib-batch', String(calibBatch)])
        .concat(['--out', join(out, `${model}-${method}${batched}.onnx`)]),
    };
  };
  // minmax streams its statistics, so it can take the 32 images 8 at a time; the default is all 32 as one batch
  // (what the search-based observers need), which holds every probed activation of 32 images at once.
  const jobs: Job[] = [
    { id: `${model}/inspect`, model, step: 'inspect', args: ['inspect', onnx, '--json'] },
    q('minmax'),
    q('minmax', 8),
  ];
  if (vit && help.repq) jobs.push(q('repq-vit'));
  // analyze's per-layer sensitivity runs the 32 inputs through the model about 4 times per quantized layer (weights,
  // activations, both, accumulated): an hour or more per model on this machine. Every model gets an analyze without
  // it first (the statistics pass, which holds the most memory); DeiT-S and the UNet then get the full analyze as an
  // extra, run after every model's main steps. The UNet's error accumulation uses 20 sampler steps.
  const analyzeArgs = (extra: string[]) =>
    ['analyze', onnx, '--calib', '32', ...data, ...common, '--out', join(out, `${model}-analysis`)].concat(extra);
  const sampler = vit ? ['--limit', '0'] : ['--steps', '20'];
  if (help.analyze) {
    jobs.push({
      id: `${model}/analyze-no-sensitivity`,
      model,
      step: `analyze (32 inputs, --no-sensitivity${vit ? '' : ', 8 error trajectories of 20 steps'})`,
      args: analyzeArgs([...sampler, '--no-sensitivity']),
    });
    if (model !== 'vit-b')
      jobs.push({
        id: `${model}/analyze`,
        model,
        step: `analyze (32 inputs, sensitivity${vit ? ' on SQNR' : ', 8 error trajectories of 20 steps'})`,
        args: analyzeArgs(sampler),
        extra: true,
      });
  }
  jobs.push(
    vit
      ? {
          id: `${model}/forward-1000`,
          model,
          step: 'eval: 1,000 images, batch 50',
          args: ['eval', onnx, '--data', 'cifar10', ...IMAGENET, '--limit', '1000', '--batch', '50', ...common],
          unit: { images: 1000, what: 'images' },
        }
      : {
          id: `${model}/forward-1000`,
          model,
          step: 'sample: 50 images x 20 DDIM steps, batch 50 (1,000 image passes)',
          args: ['sample', onnx, '--samples', '50', '--steps', '20', '--batch', '50', ...common].concat([
            '--out',
            join(out, `${model}-samples.png`),
          ]),
          unit: { images: 1000, what: 'UNet image passes' },
        },
  );
  return jobs;
}

const gib = (mib: number) => `${(mib / 1024).toFixed(2)} GiB`;

export const scale: Benchmark = {
  name: 'scale',
  title: 'Scale: paper-sized models through the CLI (time and peak memory)',
  fullOnly: true,
  async run(ctx: BenchContext) {
    const dir = benchCacheDir();
    const root = join(dir, 'scale');
    const out = join(root, 'out');
    const logs = join(root, 'logs');
    mkdirSync(out, { recursive: true });
    mkdirSync(logs, { recursive: true });
    const statePath = join(root, 'state.json');
    const state: State =
      existsSync(statePath) && !ctx.fresh ? (JSON.parse(readFileSync(statePath, 'utf8')) as State) : { jobs: {} };
    ctx.log('scale: making the random-weight models (tools/make_scale_models.py; skipped where present)');
    await ensureRandomModels([...MODELS]);
    ctx.log('scale: compiling a private CLI snapshot');
    const snap = buildCliSnapshot(join(root, 'cli'));
    const help = {
      repq: cliHelp(snap.bin, 'quantize').includes('repq-vit'),
      analyze: cliHelp(snap.bin).includes('analyze'),
    };
    const pending: string[] = [];
    if (!help.repq) pending.push('quantize --method repq-vit: not registered in the CLI yet');
    if (!help.analyze) pending.push('analyze: the command does not exist yet');
    const listed = MODELS.flatMap((m) => jobsFor(m, dir, out, help));
    const all = [...listed.filter((j) => j.extra !== true), ...listed.filter((j) => j.extra === true)];
    for (const job of all) {
      if (ctx.jobs !== undefined && !ctx.jobs.test(job.id)) continue;
      const prev = state.jobs[job.id];
      if (prev !== undefined && prev.status === 0) {
        ctx.log(`scale ${job.id}: done ${prev.ranAt} (kept; --fresh to redo)`);
        continue;
      }
      ctx.log(`scale ${job.id}: quantlens ${job.args.join(' ')}`);
      const start = loadNow();
      const r = await runCli(snap.bin, job.args, join(logs, `${job.id.replace('/', '__')}.log`), TIMEOUT_MS);
      state.jobs[job.id] = {
        id: job.id,
        model: job.model,
        step: job.step,
        ranAt: start.at,
        load: { start, end: loadNow() },
        cli: { builtAt: snap.builtAt, tscStatus: snap.tscStatus },
        ...(job.unit === undefined ? {} : { unit: job.unit }),
        ...r,
      };
      writeFileAtomic(statePath, JSON.stringify(state, null, 1) + '\n');
      ctx.log(`scale ${job.id}: status ${r.status}, ${r.wallSeconds} s, ${r.maxRssMiB} MiB`);
    }
    const rows: Row[] = [];
    const models: Record<string, unknown> = {};
    for (const m of MODELS) {
      const info = JSON.parse(readFileSync(join(dir, `${m}.json`), 'utf8')) as Record<string, unknown>;
      models[m] = { params: info['params'], gflopsPerImage: info['gflops_per_image'], onnxBytes: info['onnx_bytes'] };
      for (const job of all.filter((j) => j.model === m)) {
        const rec = state.jobs[job.id];
        if (rec === undefined) {
          pending.push(`${job.id}: not run yet`);
          continue;
        }
        const ok = rec.status === 0;
        const limit = LIMIT_MIB[m];
        const limited = limit !== undefined && (job.step.startsWith('analyze') || job.id.endsWith('repq-vit'));
        const rate =
          ok && rec.unit !== undefined ? `, ${(rec.unit.images / rec.wallSeconds).toFixed(1)} ${rec.unit.what}/s` : '';
        rows.push({
          measure: `${m}: ${job.step}`,
          value: ok
            ? `${rec.wallSeconds.toFixed(1)} s, peak RSS ${gib(rec.maxRssMiB)}${rate} (load ${rec.load.start.one.toFixed(1)})`
            : `failed (status ${rec.status}${rec.signal === null ? '' : `, ${rec.signal}`}): ${rec.stderrTail.split('\n').pop() ?? ''}`,
          ...(limited ? { goal: `< ${gib(limit)} peak`, met: ok && rec.maxRssMiB < limit } : {}),
        });
      }
    }
    return {
      params: {
        models: MODELS,
        threads: 2,
        bits: 'W4/A4',
        calibration: '32 CIFAR-10 train images resized to 224 (ViTs); 32 noised inputs at random t (UNet)',
        timeoutSeconds: TIMEOUT_MS / 1000,
      },
      results: { models, cli: snap, jobs: state.jobs },
      rows,
      notes: [
        'Each step is a separate `node dist/cli/bin.js ...` process under /usr/bin/time (peak RSS = its maximum ' +
          'resident set size); the CLI is compiled from the working tree into the bench cache at the start. ' +
          'Random weights: timing and memory depend on the architecture only. Steps finished in an earlier ' +
          'invocation are kept with their own time stamp and load.',
      ],
      pending,
    };
  },
};
