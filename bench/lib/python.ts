// The PyTorch side of the side-by-side benchmarks: Debian's python3 with torch (QUANTLENS_BENCH_PYTHON overrides),
// the tools/ scripts run as children. Where torch is missing (CI), benchmarks record that and skip the PyTorch side.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env['QUANTLENS_BENCH_PYTHON'] ?? '/usr/bin/python3';
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const toolPath = (name: string) => `${repoRoot}tools/${name}`;

let cachedTorch: string | null | undefined;

/** torch.__version__, or null where the interpreter or torch is missing. */
export function torchVersion(): string | null {
  if (cachedTorch !== undefined) return cachedTorch;
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  cachedTorch = r.status === 0 ? r.stdout.trim() : null;
  return cachedTorch;
}

/** The last stdout line of a script that prints one JSON object; stderr (torch.onnx warnings) is kept for errors. */
export function runPythonJson(script: string, args: string[], timeoutMs = 30 * 60_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [toolPath(script), ...args], { cwd: repoRoot });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0)
        return reject(new Error(`${script} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} printed no JSON: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** tools/bench_torch.py --serve: one model loaded once, asked for timings between ORT measurements. */
export class TorchServer {
  private pending: ((line: string) => void)[] = [];
  private stderr = '';

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
    readonly header: Record<string, unknown>,
  ) {}

  static async start(args: string[]): Promise<TorchServer> {
    const child = spawn(PYTHON, [toolPath('bench_torch.py'), '--serve', ...args], { cwd: repoRoot });
    const lines = createInterface({ input: child.stdout });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const header = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) =>
        reject(new Error(`bench_torch.py exited with ${code}: ${stderr.trim().slice(-300)}`)),
      );
      lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, unknown>));
    });
    child.removeAllListeners('close');
    const server = new TorchServer(child, lines, header);
    lines.on('line', (l) => server.pending.shift()?.(l));
    child.stderr.on('data', (d: Buffer) => (server.stderr += d.toString()));
    return server;
  }

  async request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const line = await new Promise<string>((resolve, reject) => {
      this.pending.push(resolve);
      this.child.once('close', () => reject(new Error(`bench_torch.py died: ${this.stderr.trim().slice(-300)}`)));
      this.child.stdin.write(JSON.stringify(req) + '\n');
    });
    this.child.removeAllListeners('close');
    const res = JSON.parse(line) as Record<string, unknown>;
    if (typeof res['error'] === 'string') throw new Error(`bench_torch.py: ${res['error']}`);
    return res;
  }

  /** K forward passes of batch B: wall and CPU seconds of each. */
  async time(batch: number, iters: number): Promise<{ wall: number[]; cpu: number[] }> {
    const r = await this.request({ cmd: 'time', batch, iters });
    return { wall: r['seconds'] as number[], cpu: r['cpu_seconds'] as number[] };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.write(JSON.stringify({ cmd: 'quit' }) + '\n');
    this.child.stdin.end();
    await closed;
    this.lines.close();
  }
}
