// Result files (bench/results/<name>.json) and the Markdown summary built from all of them, so that running one
// benchmark with --only refreshes its rows and keeps the others'.

import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import type { MachineInfo } from './machine.js';

export interface Row {
  measure: string;
  /** the measured values, as people read them */
  value: string;
  /** the headline ratio of this row (how it is oriented is in `measure`) */
  ratio?: number;
  goal?: string;
  met?: boolean;
}

export interface BenchOutput {
  params: Record<string, unknown>;
  results: unknown;
  rows: Row[];
  notes: string[];
  /** what could not be measured yet and why (a method not registered, a model not trained) */
  pending: string[];
}

export interface BenchFile extends BenchOutput {
  schemaVersion: 1;
  name: string;
  title: string;
  command: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  loadEnd: MachineInfo['loadavg'];
}

export function writeBenchFile(dir: string, f: BenchFile): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${f.name}.json`);
  writeFileAtomic(path, JSON.stringify(f, null, 1) + '\n');
  return path;
}

export function readBenchFiles(dir: string): BenchFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as BenchFile)
    .filter((f) => f.schemaVersion === 1 && Array.isArray(f.rows));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const load = (l: MachineInfo['loadavg'], e: MachineInfo['loadavg']) => `${l.one.toFixed(1)} → ${e.one.toFixed(1)}`;

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

/** One table of every benchmark's rows, then per benchmark its command, machine load and notes. */
export function renderSummary(files: BenchFile[], order: string[]): string {
  const sorted = [...files].sort((a, b) => {
    const ia = order.indexOf(a.name);
    const ib = order.indexOf(b.name);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.name.localeCompare(b.name);
  });
  const lines: string[] = [];
  const m = sorted[0]?.machine;
  lines.push('# quantlens benchmark summary', '');
  lines.push(
    'Written by `npm run bench` from `bench/results/*.json`; every ratio is measured within one run, with both',
  );
  lines.push('sides interleaved round by round on the same machine, model and data. Load average: 1-minute, at the');
  lines.push('start and end of each benchmark (the machine has 2 cores and is shared).', '');
  if (m !== undefined)
    lines.push(
      `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}, onnxruntime-node ${m.onnxruntime}, ` +
        `PyTorch ${m.torch ?? 'not available'}, quantlens ${m.quantlens} (${m.git ?? 'no git'}).`,
      '',
    );
  lines.push(
    '| benchmark | measure | value | ratio | goal | met | load |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const f of sorted)
    for (const r of f.rows)
      lines.push(
        `| ${f.name} | ${cell(r.measure)} | ${cell(r.value)} | ${fmtRatio(r.ratio)} | ${cell(r.goal ?? '')} | ${
          r.met === undefined ? '' : r.met ? 'yes' : '**no**'
        } | ${load(f.machine.loadavg, f.loadEnd)} |`,
      );
  lines.push('');
  for (const f of sorted) {
    lines.push(`## ${f.name}: ${f.title}`, '');
    lines.push(
      `Command: \`${f.command}\`${f.quick ? ' (--quick)' : ''}; ${f.startedAt.slice(0, 16).replace('T', ' ')} UTC, ` +
        `${f.seconds.toFixed(0)} s.`,
      '',
    );
    for (const n of f.notes) lines.push(`- ${n}`);
    for (const p of f.pending) lines.push(`- Pending: ${p}`);
    if (f.notes.length + f.pending.length > 0) lines.push('');
  }
  return lines.join('\n');
}
