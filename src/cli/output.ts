// Everything the CLI prints goes through here: one JSON object on stdout with --json, human text otherwise,
// progress on stderr only when stderr is a terminal.

import { quantlensVersion } from '../version.js';
import { onnxruntimeVersion } from '../runtime/index.js';

export const SCHEMA_VERSION = 1;

export function withVersions<T extends object>(
  result: T,
): T & { schemaVersion: number; quantlens: string; onnxruntime: string } {
  return { schemaVersion: SCHEMA_VERSION, quantlens: quantlensVersion, onnxruntime: onnxruntimeVersion, ...result };
}

export function printJson(result: object): void {
  process.stdout.write(JSON.stringify(withVersions(result), null, 2) + '\n');
}

export function print(line = ''): void {
  process.stdout.write(line + '\n');
}

export function warn(line: string): void {
  process.stderr.write(`warning: ${line}\n`);
}

/** A progress callback that redraws one stderr line on a TTY and does nothing otherwise. */
export function progress(label: string, quiet = false): (done: number, total: number) => void {
  if (quiet || !process.stderr.isTTY) return () => {};
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    process.stderr.write(`\r${label} ${done}/${total}${done >= total ? '\n' : ''}`);
  };
}
