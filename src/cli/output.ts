// Everything the CLI prints goes through here: one JSON object on stdout with --json, human text otherwise,
// progress on stderr only when stderr is a terminal.

import { escapeControls } from '../errors.js';
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

// Model files put arbitrary strings (node names, metadata) into what the CLI prints: control characters are shown
// escaped so that a name cannot move the cursor, recolour the terminal or, in an error, start a second line.
export { escapeControls };

export function print(line = ''): void {
  process.stdout.write(escapeControls(line, true) + '\n');
}

export function warn(line: string): void {
  process.stderr.write(`warning: ${escapeControls(line)}\n`);
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
