// What a result was measured on: CPU, cores, memory, load, and the versions of everything that runs.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, freemem } from 'node:os';
import { onnxruntimeVersion } from '../../src/runtime/index.js';
import { quantlensVersion } from '../../src/version.js';
import { torchVersion } from './python.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  loadavg: { at: string; one: number; five: number; fifteen: number };
  node: string;
  onnxruntime: string;
  torch: string | null;
  quantlens: string;
  git: string | null;
}

export function loadNow(): MachineInfo['loadavg'] {
  const [one, five, fifteen] = loadavg();
  return { at: new Date().toISOString(), one: one!, five: five!, fifteen: fifteen! };
}

function gitHead(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head}+dirty`;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    loadavg: loadNow(),
    node: process.version,
    onnxruntime: onnxruntimeVersion,
    torch: torchVersion(),
    quantlens: quantlensVersion,
    git: gitHead(),
  };
}
