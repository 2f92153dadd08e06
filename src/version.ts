// quantlens's own version, read once from package.json (two levels up from both src/ and dist/).

import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const quantlensVersion = readVersion();

/** Root of the installed package (for shipped models). */
export const packageRoot = new URL('..', import.meta.url);
