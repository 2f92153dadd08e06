// Running the quantlens CLI as a user would, for time and peak memory. The CLI is compiled into a private snapshot
// (dist/ is rebuilt by every test run, so a long benchmark must not read it), and each command runs under
// /usr/bin/time, which reports the child's maximum resident set size.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './python.js';

export interface CliSnapshot {
  bin: string;
  builtAt: string;
  tscStatus: number | null;
  /** first lines of tsc's output when it reported errors (it still emits) */
  tscErrors: string[];
}

/** Compile src/ into `dir`/dist with node_modules linked, so `node dir/dist/cli/bin.js` is a stable CLI. */
export function buildCliSnapshot(dir: string): CliSnapshot {
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(repoRoot, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) symlinkSync(join(repoRoot, 'node_modules'), modules);
  const bin = join(dir, 'dist', 'cli', 'bin.js');
  if (!existsSync(bin)) throw new Error(`building the CLI snapshot failed: ${r.stdout.slice(0, 500)}`);
  const snap: CliSnapshot = {
    bin,
    builtAt: new Date().toISOString(),
    tscStatus: r.status,
    tscErrors:
      r.status === 0
        ? []
        : r.stdout
            .split('\n')
            .filter((l) => l.includes('error'))
            .slice(0, 5),
  };
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snap, null, 1) + '\n');
  return snap;
}

export function readCliSnapshot(dir: string): CliSnapshot | undefined {
  const p = join(dir, 'snapshot.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as CliSnapshot) : undefined;
}

export interface CliRun {
  args: string[];
  status: number | null;
  signal: string | null;
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  maxRssMiB: number;
  /** the command's --json output, when it printed one */
  json?: unknown;
  stderrTail: string;
}

const TIME_FORMAT = '%e %U %S %M';

/** `node bin args` under /usr/bin/time; output goes to `logPath`. */
export function runCli(bin: string, args: string[], logPath: string, timeoutMs: number): Promise<CliRun> {
  const timeFile = `${logPath}.time`;
  rmSync(timeFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', TIME_FORMAT, '-o', timeFile, process.execPath, bin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, QUANTLENS_DEBUG: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      writeFileSync(logPath, `$ quantlens ${args.join(' ')}\n${out}\n--- stderr ---\n${err}`);
      const timeLine = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n').pop()! : '';
      const [wall, user, sys, rss] = timeLine.split(/\s+/).map(Number);
      let json: unknown;
      try {
        json = JSON.parse(out);
      } catch {
        json = undefined;
      }
      resolve({
        args,
        status,
        signal,
        wallSeconds: wall ?? NaN,
        userSeconds: user ?? NaN,
        systemSeconds: sys ?? NaN,
        maxRssMiB: Math.round(((rss ?? NaN) / 1024) * 10) / 10,
        ...(json === undefined ? {} : { json }),
        stderrTail: err.trim().split('\n').slice(-5).join('\n'),
      });
    });
  });
}
