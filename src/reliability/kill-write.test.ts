// SIGKILL in the middle of writing a model: a child process rewrites a 24 MB model over an existing small one in a
// loop (through the built writeModel, as the CLI does) and is killed at seeded random moments. Every time, the
// target must be the old file or the complete new one, byte for byte; killed writers may leave temporary files
// beside it (never at the target's name), and the next write of that target removes the stale ones.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/calib.js';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { readModel, serializeModel, writeModel } from '../onnx/io/index.js';
import { STALE_TEMP_MS } from '../util/atomic-write.js';

const root = mkdtempSync(join(tmpdir(), 'ql-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dist = (p: string) => pathToFileURL(join(import.meta.dirname, '../../dist', p)).href;

function modelBytes(n: number, value: number): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, n]);
  const w = b.init('w', new Float32Array(n).fill(value), [1, n]);
  b.output(b.op('Add', [x, w]), 'float32', [1, n]);
  return serializeModel(makeModel(b.graph));
}

// The child parses the new model once, says "ready", then writes it over the target until it is killed.
const CHILD = `
import { readFileSync } from 'node:fs';
const { parseModel, writeModel } = await import(process.env.QL_IO);
const model = parseModel(readFileSync(process.env.QL_SRC));
process.stdout.write('ready\\n');
for (;;) writeModel(model, process.env.QL_TARGET);
`;

/** Starts the writer, kills it `delayMs` after it is ready; resolves once it is gone, with its pid. */
function killWriterAfter(src: string, target: string, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, QL_IO: dist('onnx/io/index.js'), QL_SRC: src, QL_TARGET: target },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(child.pid!) : reject(new Error(`writer exited on its own: ${err}`)),
    );
  });
}

describe('a write killed with SIGKILL', () => {
  it('leaves the old model or the complete new one, never a mix, at 6 seeded random moments', async () => {
    const oldBytes = modelBytes(1024, 1);
    const newBytes = modelBytes(6 * 1024 * 1024, 2); // 24 MB
    const src = join(root, 'new-source.onnx');
    writeFileSync(src, newBytes);
    const dir = mkdtempSync(join(root, 'out-'));
    const target = join(dir, 'model.onnx');
    const rand = mulberry32(20_250_601);
    const seen = { old: 0, new: 0 };
    const pids: number[] = [];
    for (let k = 0; k < 6; k++) {
      writeFileSync(target, oldBytes);
      // Half the kills land early (first write in progress), half later (a rewrite over the new model).
      const delay = k % 2 === 0 ? rand() * 15 : 150 + rand() * 1200;
      pids.push(await killWriterAfter(src, target, delay));
      const got = readFileSync(target);
      const isOld = got.equals(oldBytes);
      const isNew = got.equals(newBytes);
      expect(isOld || isNew, `kill ${k} after ${delay.toFixed(0)} ms: ${got.length} bytes`).toBe(true);
      if (isOld) seen.old++;
      else seen.new++;
      expect(readModel(target).graph.initializers.get('w')!.dims[1]).toBe(isOld ? 1024 : 6 * 1024 * 1024);
      // Anything else in the folder is a writer's temporary file, named after the target and the writer's pid.
      for (const name of readdirSync(dir).filter((n) => n !== 'model.onnx'))
        expect(name).toMatch(/^\.model\.onnx\.\d+\.[0-9a-f]{8}\.tmp$/);
    }
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);

    // Leftovers of dead writers go with the next write of the target once they are stale; a live process's stay.
    const live = join(dir, `.model.onnx.${process.ppid}.0123abcd.tmp`);
    writeFileSync(live, 'a write in progress elsewhere');
    const dead = join(dir, `.model.onnx.${pids[0]}.deadbeef.tmp`);
    writeFileSync(dead, 'left by a killed writer');
    const past = (Date.now() - 2 * STALE_TEMP_MS) / 1000;
    for (const name of readdirSync(dir)) if (name.endsWith('.tmp')) utimesSync(join(dir, name), past, past);
    writeModel(readModel(src), target);
    expect(readdirSync(dir).sort()).toEqual([`.model.onnx.${process.ppid}.0123abcd.tmp`, 'model.onnx']);
    expect(readFileSync(target).equals(newBytes)).toBe(true);
  });
});
