// Run the built CLI as a user would, capturing stdout, stderr and the exit code.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...process.env, QUANTLENS_DEBUG: '' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: non-zero exit, an `error:` first line, and no stack trace anywhere. */
export function expectOneLineError(r: CliResult): string {
  // Warnings may precede the error (e.g. no recorded normalization); the error itself must be one line + hint.
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning: '));
  if (r.code === 0) throw new Error(`expected failure, got exit 0; stdout: ${r.stdout.slice(0, 200)}`);
  if (!lines[0]?.startsWith('error: '))
    throw new Error(`expected "error: ..." on stderr, got: ${r.stderr.slice(0, 400)}`);
  if (lines.length > 2 || /\n\s+at /.test(r.stderr)) throw new Error(`expected one line (+hint), got: ${r.stderr}`);
  return lines[0];
}
