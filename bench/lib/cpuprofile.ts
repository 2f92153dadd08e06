// Reading V8 .cpuprofile files (node --cpu-prof): self time per function, and the share of the main thread spent
// idle (waiting for ORT's own threads), in the garbage collector, or running JavaScript.

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  function: string;
  /** file:line, relative to the repository where it is inside it */
  where: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleShare: number;
  gcShare: number;
  programShare: number;
  /** JavaScript (ours and libraries') */
  jsShare: number;
  top: HotSpot[];
}

const SPECIAL = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

export function summarizeProfile(path: string, repoRoot: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // Each sample's time is the delta to the next sample (the V8 convention, as Chrome DevTools computes it).
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
  }
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0) || (p.endTime - p.startTime) / 1000;
  const agg = new Map<string, HotSpot>();
  let idle = 0;
  let gc = 0;
  let program = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const fn = n.callFrame.functionName || (n.callFrame.url === '' ? '(native code)' : '(anonymous)');
    if (fn === '(idle)') idle += ms;
    else if (fn === '(garbage collector)') gc += ms;
    else if (fn === '(program)') program += ms;
    if (SPECIAL.has(fn)) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(repoRoot, '');
    const where = url === '' ? '(native)' : `${url}:${n.callFrame.lineNumber + 1}`;
    const key = `${fn} ${where}`;
    const h = agg.get(key) ?? { function: fn, where, selfMs: 0, share: 0 };
    h.selfMs += ms;
    agg.set(key, h);
  }
  const hot = [...agg.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top)
    .map((h) => ({ ...h, selfMs: Math.round(h.selfMs), share: Number((h.selfMs / totalMs).toFixed(4)) }));
  const share = (x: number) => Number((x / totalMs).toFixed(4));
  return {
    totalMs: Math.round(totalMs),
    idleShare: share(idle),
    gcShare: share(gc),
    programShare: share(program),
    jsShare: share(totalMs - idle - gc - program),
    top: hot,
  };
}
