// Timing on a shared machine: wall and process CPU time per sample, and interleaved rounds so that both sides of a
// ratio see the same load (the order alternates each round to cancel any warm-cache advantage of going second).

import { loadNow, type MachineInfo } from './machine.js';

export interface Samples {
  wall: number[];
  cpu: number[];
}

export const emptySamples = (): Samples => ({ wall: [], cpu: [] });

/** Seconds of wall and process CPU time (all threads, ORT's included) of one call. */
export async function timeOnce(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** Mean time of `inner` back-to-back calls (short calls are timed in groups). */
export async function timeMean(fn: () => Promise<unknown>, inner = 1): Promise<{ wall: number; cpu: number }> {
  const t = await timeOnce(async () => {
    for (let i = 0; i < inner; i++) await fn();
  });
  return { wall: t.wall / inner, cpu: t.cpu / inner };
}

export type Side = () => Promise<{ wall: number; cpu: number }>;

export interface Interleaved {
  samples: Record<string, Samples>;
  load: { start: MachineInfo['loadavg']; end: MachineInfo['loadavg'] };
}

/** `rounds` rounds; in each, every side gives one sample, in alternating order. */
export async function interleave(
  rounds: number,
  sides: Record<string, Side>,
  onRound?: (r: number) => void,
): Promise<Interleaved> {
  const names = Object.keys(sides);
  const samples: Record<string, Samples> = Object.fromEntries(names.map((n) => [n, emptySamples()]));
  const start = loadNow();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const t = await sides[n]!();
      samples[n]!.wall.push(t.wall);
      samples[n]!.cpu.push(t.cpu);
    }
    onRound?.(r + 1);
  }
  return { samples, load: { start, end: loadNow() } };
}

/** A side that times `inner` back-to-back calls and returns the mean per call. */
export type Sampler = (inner: number) => Promise<{ wall: number; cpu: number }>;

/**
 * Warm every sampler up, then choose per side how many calls one sample groups so that a sample lasts about
 * `target` seconds (at most `max` calls): fast calls are timed in groups, slow ones one at a time.
 */
export async function fitInner(
  samplers: Record<string, Sampler>,
  target: number,
  max: number,
): Promise<{ sides: Record<string, Side>; inner: Record<string, number> }> {
  const sides: Record<string, Side> = {};
  const inner: Record<string, number> = {};
  for (const [k, s] of Object.entries(samplers)) {
    await s(1);
    const t = await s(1);
    inner[k] = Math.min(max, Math.max(1, Math.ceil(target / Math.max(t.wall, 1e-6))));
    sides[k] = () => s(inner[k]!);
  }
  return { sides, inner };
}
