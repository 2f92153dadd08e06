// Where the time goes: V8 CPU profiles of calibration (minmax, RepQ-ViT) and of evaluation over CIFAR-10 JPEGs (FP
// and simulated W4/A4) of the deit-cifar10-sized model, each in a child process with the profiler on around the
// workload only. The main thread runs JavaScript and also ORT's session.run (onnxruntime-node calls it
// synchronously, so its time shows as a native frame); ORT's other intra-op thread is not sampled. Each run keeps
// the previous run's summary under `history`, so a change shows up as before/after in the results.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { summarizeProfile, type ProfileSummary } from '../lib/cpuprofile.js';
import { loadNow } from '../lib/machine.js';
import { hasMethod } from '../lib/methods.js';
import { repoRoot } from '../lib/python.js';
import type { BenchFile, Row } from '../lib/results.js';

interface TaskResult {
  task: string;
  wall: number;
  cpu: number;
  [k: string]: unknown;
}

function runTarget(task: string, model: string, out: string, threads: number, items: number): Promise<TaskResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/profile-target.ts', task, model, out], {
      cwd: repoRoot,
      env: {
        ...process.env,
        QUANTLENS_BENCH_THREADS: String(threads),
        QUANTLENS_BENCH_EVAL_ITEMS: String(items),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`profile ${task} exited with ${code}: ${stderr.trim().slice(-400)}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as TaskResult);
    });
  });
}

/** Self time grouped by where the code lives. */
export function categorize(p: ProfileSummary, all: { where: string; selfMs: number }[]): Record<string, number> {
  const groups: Record<string, number> = {};
  const add = (k: string, ms: number) => (groups[k] = (groups[k] ?? 0) + ms);
  for (const h of all) {
    const w = h.where;
    const k =
      w === '(native)'
        ? 'native (ORT session.run/create, sharp decode)'
        : w.startsWith('src/quant')
          ? 'src/quant (observers, quantizers)'
          : w.startsWith('src/methods')
            ? 'src/methods'
            : w.startsWith('src/data')
              ? 'src/data (decoding, preprocessing, finite checks)'
              : w.startsWith('src/runtime') || w.includes('onnxruntime')
                ? 'runtime glue (tensor conversion)'
                : w.startsWith('src/onnx') || w.includes('@bufbuild')
                  ? 'graph IR and serialization'
                  : 'other JS';
    add(k, h.selfMs);
  }
  add('garbage collector', p.gcShare * p.totalMs);
  add('idle (waiting)', p.idleShare * p.totalMs);
  return Object.fromEntries(
    Object.entries(groups)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Number((v / p.totalMs).toFixed(4))]),
  );
}

export const profile: Benchmark = {
  name: 'profile',
  title: 'Hot spots: CPU profiles of calibration and evaluation (deit-cifar10 size)',
  async run(ctx: BenchContext) {
    const model = ctx.quick ? 'tiny-deit' : 'deit-cifar10';
    const items = ctx.quick ? 128 : 2000;
    const tasks = ctx.quick ? ['calib:minmax', 'eval:fp'] : ['calib:minmax', 'eval:fp', 'eval:minmax'];
    const pending: string[] = [];
    if (hasMethod('repq-vit'))
      tasks.splice(1, 0, ...(ctx.quick ? ['calib:repq-vit'] : ['calib:repq-vit', 'eval:repq-vit']));
    else pending.push('calib:repq-vit and eval:repq-vit: repq-vit is not registered yet');
    const dir = join(ctx.scratch, 'profiles');
    mkdirSync(dir, { recursive: true });
    const rows: Row[] = [];
    const results: Record<string, unknown> = {};
    for (const task of tasks) {
      ctx.log(`profile ${task} ${model}`);
      const out = join(dir, `${task.replace(':', '-')}.cpuprofile`);
      const load = loadNow();
      const r = await runTarget(task, model, out, ctx.threads, items);
      const s = summarizeProfile(out, repoRoot, 12);
      const groups = categorize(s, summarizeProfile(out, repoRoot, 100_000).top);
      results[task] = { ...r, load: { start: load, end: loadNow() }, profile: s, groups, file: out };
      const top = s.top
        .slice(0, 3)
        .map((h) => `${h.function} ${(h.share * 100).toFixed(0)}%`)
        .join(', ');
      rows.push({
        measure: `${model} ${task}: wall / CPU time, main-thread profile`,
        value: `${r.wall.toFixed(2)} s / ${r.cpu.toFixed(2)} s; top: ${top}`,
      });
    }
    // Keep the previous run of this benchmark as history, so before/after is in the results.
    const prevPath = join(repoRoot, 'bench', 'results', ...(ctx.quick ? ['quick'] : []), 'profile.json');
    const history: unknown[] = [];
    if (existsSync(prevPath)) {
      const prev = JSON.parse(readFileSync(prevPath, 'utf8')) as BenchFile & { results: { history?: unknown[] } };
      const { history: older, ...prevResults } = prev.results;
      const summary = Object.fromEntries(
        Object.entries(prevResults).map(([k, v]) => {
          const t = v as { wall: number; cpu: number; profile: ProfileSummary; groups: Record<string, number> };
          return [k, { wall: t.wall, cpu: t.cpu, groups: t.groups, top: t.profile.top.slice(0, 6) }];
        }),
      );
      history.push({ at: prev.startedAt, git: prev.machine.git, load: prev.machine.loadavg.one, tasks: summary });
      history.push(...(older ?? []).slice(0, 9));
    }
    return {
      params: { model, tasks, evalItems: items, threads: ctx.threads },
      results: { ...results, history },
      rows,
      notes: [
        'Profiles: bench/profile-target.ts under the V8 sampling profiler (node:inspector) around the workload ' +
          'only; groups are self time by source location. "native" is mostly ORT running on the main thread ' +
          '(onnxruntime-node calls session.run synchronously) and sharp decoding JPEGs.',
      ],
      pending,
    };
  },
};
