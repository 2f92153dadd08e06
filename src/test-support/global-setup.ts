// CLI tests spawn the built binary, so every test run builds dist/ first (a stale dist would test old code).
// Type errors do not stop the build here (tsc still emits); `npm test` fails on them in its typecheck step.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    process.stderr.write(`warning: tsc reported errors while building dist/:\n${r.stdout.slice(0, 2000)}\n`);
  if (!existsSync(`${root}dist/cli/bin.js`)) throw new Error('building dist/ failed; run `npm run build`');
}
