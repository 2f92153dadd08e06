// The long fuzz run: npx tsx bench/fuzz-long.ts [--cases 10000] [--seed S] [--workers 2] [--runtime-every 10]
//   [--cli-every 500] [--timeout-ms 30000] [--slow-ms 2000] [--no-docs]
// Cases run in child processes (bench/fuzz-worker.ts), one at a time each, under a wall-clock watchdog: a case that
// does not answer within --timeout-ms is a hang (the child is killed and replaced), a child that dies is a crash.
// Every --cli-every-th case also goes through the built CLI (`inspect --json`; every 4th of those `quantize`).
// Writes bench/results/fuzz-long.json and the figures block of docs/reliability.md (not with --no-docs); exits 1 on
// any failure.

import { spawnSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import {
  addResult,
  emptySummary,
  loadCorpus,
  makeCase,
  type CaseResult,
  type FuzzSummary,
} from '../src/reliability/fuzz-case.js';
import { MUTATION_KINDS } from '../src/reliability/mutate.js';
import type { WorkerRequest } from './fuzz-worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Args {
  cases: number;
  seed: number;
  workers: number;
  runtimeEvery: number;
  cliEvery: number;
  timeoutMs: number;
  slowMs: number;
  docs: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    cases: 10_000,
    seed: 1,
    workers: 2,
    runtimeEvery: 10,
    cliEvery: 500,
    timeoutMs: 30_000,
    slowMs: 2000,
    docs: true,
  };
  const num = (i: number) => {
    const v = Number(argv[i]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${argv[i - 1]} needs a non-negative integer`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--cases') a.cases = num(++i);
    else if (k === '--seed') a.seed = num(++i);
    else if (k === '--workers') a.workers = Math.max(1, num(++i));
    else if (k === '--runtime-every') a.runtimeEvery = num(++i);
    else if (k === '--cli-every') a.cliEvery = num(++i);
    else if (k === '--timeout-ms') a.timeoutMs = num(++i);
    else if (k === '--slow-ms') a.slowMs = num(++i);
    else if (k === '--no-docs') a.docs = false;
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

/** One child process and the case it is running. */
class Worker {
  private child!: ChildProcess;
  private pending: { index: number; resolve: (r: CaseResult) => void; timer: NodeJS.Timeout } | undefined;
  private ready!: Promise<void>;
  restarts = 0;

  constructor(
    private readonly args: Args,
    private readonly scratch: string,
  ) {
    this.start();
  }

  private start(): void {
    this.child = fork(join(root, 'bench', 'fuzz-worker.ts'), [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, QL_FUZZ_SCRATCH: this.scratch },
    });
    let markReady!: () => void;
    this.ready = new Promise((r) => (markReady = r));
    this.child.on('message', (m: { ready?: boolean; result?: CaseResult }) => {
      if (m.ready === true) markReady();
      if (m.result !== undefined && this.pending?.index === m.result.index) this.settle(m.result);
    });
    this.child.on('exit', (code, signal) => {
      if (this.pending === undefined) return;
      this.settle(this.failure(this.pending.index, `worker died (exit ${code}, signal ${signal})`));
    });
  }

  private failure(index: number, problem: string): CaseResult {
    return { index, seed: '?', steps: [], outcome: 'failure', stage: 'read', problem, ms: 0, method: '?' };
  }

  private settle(r: CaseResult): void {
    const p = this.pending!;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.resolve(r);
  }

  private restart(): void {
    this.child.removeAllListeners();
    this.child.kill('SIGKILL');
    this.restarts++;
    this.start();
  }

  async run(req: WorkerRequest): Promise<CaseResult> {
    await this.ready;
    const r = await new Promise<CaseResult>((resolve) => {
      const timer = setTimeout(() => {
        this.settle(this.failure(req.index, `hang: no answer within ${this.args.timeoutMs} ms`));
      }, this.args.timeoutMs);
      this.pending = { index: req.index, resolve, timer };
      this.child.send(req);
    });
    if (r.outcome === 'failure' && (r.problem?.startsWith('hang') || r.problem?.startsWith('worker died')))
      this.restart();
    return r;
  }

  stop(): void {
    this.child.removeAllListeners();
    this.child.disconnect();
  }
}

interface CliSummary {
  runs: number;
  ok: number;
  errors: number;
  failures: string[];
}

/** The built CLI on case `index`: exit 0, or `error:` + at most a hint, never an internal error or a stack. */
function cliCheck(
  corpus: ReturnType<typeof loadCorpus>,
  seed: number,
  index: number,
  s: CliSummary,
  quantize: boolean,
): void {
  const c = makeCase(corpus, seed, index);
  const dir = mkdtempSync(join(tmpdir(), 'ql-fuzz-cli-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), c.model);
    if (c.entry.ext !== undefined) writeFileSync(join(dir, c.entry.ext.location), c.data!);
    const commands = [['inspect', join(dir, 'model.onnx'), '--json']];
    if (quantize && existsSync('/usr/share/datasets/fashion-mnist'))
      commands.push([
        'quantize',
        join(dir, 'model.onnx'),
        '--data',
        '/usr/share/datasets/fashion-mnist',
        '--calib',
        '8',
        '--threads',
        '1',
        '--json',
        '--out',
        join(dir, 'q.onnx'),
      ]);
    for (const argv of commands) {
      const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'bin.js'), ...argv], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, QUANTLENS_DEBUG: '' },
      });
      s.runs++;
      const lines = r.stderr
        .trimEnd()
        .split('\n')
        .filter((l) => !l.startsWith('warning: '));
      const bad =
        r.status === null
          ? `killed (${r.signal})`
          : r.status === 0
            ? undefined
            : !lines[0]?.startsWith('error: ') || lines.length > 2 || /\n\s+at /.test(r.stderr)
              ? `stderr: ${r.stderr.slice(0, 300)}`
              : undefined;
      if (bad !== undefined) s.failures.push(`case ${index} ${argv[0]} (${c.steps.join(' | ')}): ${bad}`);
      else if (r.status === 0) s.ok++;
      else s.errors++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(s: FuzzSummary, cli: CliSummary, a: Args, restarts: number): string {
  const pct = (n: number) => `${((100 * n) / s.cases).toFixed(1)}%`;
  const rows = Object.entries(s.rejected)
    .sort((x, y) => y[1] - x[1])
    .map(([k, n]) => {
      const [stage, kind = ''] = k.split('/');
      return `| rejected at ${stage} with ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} error | ${n} | ${pct(n)} |`;
    });
  const seeds = Object.entries(s.bySeed)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const kinds = Object.entries(s.byMutation)
    .sort((x, y) => y[1] - x[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `Last long run: \`npx tsx bench/fuzz-long.ts --cases ${a.cases} --seed ${a.seed}\`, ${new Date().toISOString().slice(0, 10)}, ${s.seconds.toFixed(0)} s on ${a.workers} worker processes.`,
    '',
    '| outcome | cases | share |',
    '| --- | ---: | ---: |',
    `| read, inspected, quantized and rewritten (no error) | ${s.ok} | ${pct(s.ok)} |`,
    ...rows,
    `| **failures** (uncaught exception, bad message, hang, crash, over ${a.slowMs} ms CPU) | **${s.failures.length}** | ${pct(s.failures.length)} |`,
    `| total | ${s.cases} | |`,
    '',
    `ORT calibration + session on ${s.runtimeSessions} cases (every ${a.runtimeEvery}th); slowest case ${s.maxMs.toFixed(0)} ms CPU; ` +
      `${restarts} worker restarts. Built CLI on ${cli.runs} runs: ${cli.ok} exit 0, ${cli.errors} one-line errors, ${cli.failures.length} failures.`,
    '',
    `Seeds: ${seeds}.`,
    '',
    `Mutations applied (${MUTATION_KINDS.structured.length} structured, ${MUTATION_KINDS.raw.length} raw, ${MUTATION_KINDS.data.length} on external data): ${kinds}.`,
  ].join('\n');
}

const BEGIN = '<!-- fuzz-long:begin -->';
const END = '<!-- fuzz-long:end -->';

function updateDocs(block: string): void {
  const path = join(root, 'docs', 'reliability.md');
  if (!existsSync(path)) return;
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/reliability.md has no ${BEGIN} ... ${END} block`);
  writeFileAtomic(path, `${text.slice(0, a + BEGIN.length)}\n${block}\n${text.slice(b)}`);
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  if (a.cliEvery > 0 && !existsSync(join(root, 'dist', 'cli', 'bin.js')))
    throw new Error('the CLI sample needs a build: run `npm run build` first (or pass --cli-every 0)');
  const corpus = loadCorpus(join(root, 'fixtures'));
  const summary = emptySummary(a.seed);
  const cli: CliSummary = { runs: 0, ok: 0, errors: 0, failures: [] };
  const scratch = mkdtempSync(join(tmpdir(), 'ql-fuzz-'));
  const workers = Array.from({ length: a.workers }, () => new Worker(a, scratch));
  const started = performance.now();
  let next = 0;
  let done = 0;
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  await Promise.all(
    workers.map(async (w) => {
      while (next < a.cases) {
        const index = next++;
        const runtime = a.runtimeEvery > 0 && index % a.runtimeEvery === 0;
        const r = await w.run({ index, seed: a.seed, runtime, slowMs: a.slowMs });
        if (r.seed === '?') {
          // The worker died or hung before answering: name the case from here.
          const c = makeCase(corpus, a.seed, index);
          Object.assign(r, { seed: c.entry.name, steps: c.steps });
        }
        addResult(summary, r, runtime);
        if (r.outcome === 'failure')
          log(`FAIL case ${index} (${r.seed}: ${r.steps.join(' | ')}) at ${r.stage}: ${r.problem} ${r.message ?? ''}`);
        if (++done % 500 === 0)
          log(
            `${done}/${a.cases} cases, ${summary.failures.length} failures, ${((performance.now() - started) / 1000).toFixed(0)} s`,
          );
      }
    }),
  );
  const restarts = workers.reduce((n, w) => n + w.restarts, 0);
  workers.forEach((w) => w.stop());
  rmSync(scratch, { recursive: true, force: true });
  if (a.cliEvery > 0)
    for (let i = 0, k = 0; i < a.cases; i += a.cliEvery, k++) cliCheck(corpus, a.seed, i, cli, k % 4 === 0);
  summary.seconds = (performance.now() - started) / 1000;
  summary.failures.sort((x, y) => x.index - y.index);
  const block = markdown(summary, cli, a, restarts);
  // --no-docs: a scratch run, recorded nowhere.
  if (a.docs) {
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileAtomic(
      join(resultsDir, 'fuzz-long.json'),
      JSON.stringify({ schemaVersion: 1, args: a, summary, cli, restarts }, null, 1) + '\n',
    );
    updateDocs(block);
  }
  log(block);
  for (const f of cli.failures) log(`CLI FAIL ${f}`);
  return summary.failures.length + cli.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz-long: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
