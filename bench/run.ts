// npm run bench [-- --only a,b] [--quick] [--list] [--threads N] [--fresh] [--jobs REGEX]: run the benchmarks, write
// bench/results/<name>.json each and bench/results/summary.md, and refresh the table in docs/performance.md.
// --quick (CI smoke run): the fixtures, tiny repeats, no paper-sized models; results go to bench/results/quick/.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import type { Benchmark, BenchContext } from './lib/bench.js';
import { loadNow, machineInfo } from './lib/machine.js';
import { benchCacheDir } from './lib/models.js';
import { repoRoot } from './lib/python.js';
import { readBenchFiles, renderSummary, writeBenchFile, type BenchFile } from './lib/results.js';
import { inference } from './benchmarks/inference.js';
import { fakeQuant } from './benchmarks/fake-quant.js';
import { calibration } from './benchmarks/calibration.js';
import { deploy } from './benchmarks/deploy.js';
import { gemm } from './benchmarks/gemm.js';
import { profile } from './benchmarks/profile.js';
import { scale } from './benchmarks/scale.js';
import { threads } from './benchmarks/threads.js';

export const BENCHMARKS: Benchmark[] = [inference, fakeQuant, calibration, deploy, gemm, threads, profile, scale];

const USAGE = `usage: npm run bench [-- --only name,name] [--quick] [--threads N] [--fresh] [--jobs REGEX] [--list]
benchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}`;

interface Args {
  quick: boolean;
  only: string[] | null;
  threads: number;
  list: boolean;
  fresh: boolean;
  jobs?: RegExp;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: null, threads: 2, list: false, fresh: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--quick') a.quick = true;
    else if (k === '--list') a.list = true;
    else if (k === '--fresh') a.fresh = true;
    else if (k === '--jobs') a.jobs = new RegExp(argv[++i] ?? '');
    else if (k === '--only') a.only = (argv[++i] ?? '').split(',').filter((s) => s !== '');
    else if (k === '--threads') a.threads = Number(argv[++i]);
    else if (k === '--help' || k === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${k}\n${USAGE}`);
  }
  if (!Number.isInteger(a.threads) || a.threads < 1) throw new Error('--threads must be a positive integer');
  for (const n of a.only ?? [])
    if (!BENCHMARKS.some((b) => b.name === n)) throw new Error(`unknown benchmark ${n}\n${USAGE}`);
  return a;
}

const DOC_START = '<!-- bench:summary:start -->';
const DOC_END = '<!-- bench:summary:end -->';

/** Replace the generated block of docs/performance.md (between the markers), keeping the commentary around it. */
function refreshDoc(summary: string): boolean {
  const doc = join(repoRoot, 'docs', 'performance.md');
  if (!existsSync(doc)) return false;
  const text = readFileSync(doc, 'utf8');
  const s = text.indexOf(DOC_START);
  const e = text.indexOf(DOC_END);
  if (s < 0 || e < s) return false;
  const body = summary.replace(/^# .*\n\n/, '');
  writeFileAtomic(doc, `${text.slice(0, s + DOC_START.length)}\n\n${body.trim()}\n\n${text.slice(e)}`);
  return true;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
    return;
  }
  if (args.list) {
    for (const b of BENCHMARKS) console.log(`${b.name.padEnd(12)} ${b.title}${b.fullOnly ? ' (not in --quick)' : ''}`);
    return;
  }
  const outDir = join(repoRoot, 'bench', 'results', ...(args.quick ? ['quick'] : []));
  const scratch = join(benchCacheDir(), args.quick ? 'scratch-quick' : 'scratch');
  mkdirSync(scratch, { recursive: true });
  const selected = BENCHMARKS.filter(
    (b) => (args.only === null || args.only.includes(b.name)) && !(args.quick && b.fullOnly),
  );
  const t0 = performance.now();
  let failed = 0;
  for (const b of selected) {
    const ctx: BenchContext = {
      quick: args.quick,
      threads: args.threads,
      repeats: (full, quick) => (args.quick ? quick : full),
      log: (msg) => console.log(`  ${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s  ${msg}`),
      scratch,
      fresh: args.fresh,
      ...(args.jobs === undefined ? {} : { jobs: args.jobs }),
    };
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const start = performance.now();
    console.log(`${b.name}: ${b.title} (load ${machine.loadavg.one.toFixed(2)})`);
    try {
      const out = await b.run(ctx);
      const file: BenchFile = {
        schemaVersion: 1,
        name: b.name,
        title: b.title,
        command: `npm run bench${args.quick ? ':quick' : ''} -- --only ${b.name}`,
        quick: args.quick,
        startedAt,
        seconds: (performance.now() - start) / 1000,
        machine,
        loadEnd: loadNow(),
        ...out,
      };
      const path = writeBenchFile(outDir, file);
      for (const r of out.rows)
        console.log(`  ${r.measure}: ${r.value}${r.ratio === undefined ? '' : ` (ratio ${r.ratio.toFixed(2)})`}`);
      for (const p of out.pending) console.log(`  pending: ${p}`);
      console.log(`  -> ${path}`);
    } catch (e) {
      failed++;
      console.error(`  FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  const files = readBenchFiles(outDir);
  const summary = renderSummary(
    files,
    BENCHMARKS.map((b) => b.name),
  );
  writeFileAtomic(join(outDir, 'summary.md'), summary + '\n');
  if (!args.quick && refreshDoc(summary)) console.log('refreshed docs/performance.md');
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s -> ${join(outDir, 'summary.md')}`);
  if (failed > 0) process.exitCode = 1;
}

await main();
