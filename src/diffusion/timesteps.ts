// DDIM time-step sequences, exactly as the official DDIM code builds them (ermongroup/ddim, runners/diffusion.py),
// because the Q-Diffusion calibration steps and the published FIDs depend on these very integers:
//   uniform: seq = range(0, T, T // S)
//   quad:    seq = [int(s) for s in linspace(0, sqrt(0.8 T), S) ** 2]   (runs 0..0.8T, with duplicates)
// Sampling walks seq in reverse, pairing each t with the previous entry (−1 after the first: ā(−1) = 1).

import { usageError } from '../errors.js';
import { linspace } from './schedule.js';

export type Skip = 'uniform' | 'quad';

export function parseSkip(s: string): Skip {
  if (s !== 'uniform' && s !== 'quad') throw usageError(`--skip must be uniform or quad, got ${s}`);
  return s;
}

/**
 * The ascending sequence `seq` for S sampling steps over T training steps. `uniform` has ceil(T / (T // S))
 * entries (one more than S when S does not divide T, as in the official code); `quad` has exactly S.
 */
export function ddimTimesteps(trainSteps: number, steps: number, skip: Skip): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw usageError(`--steps must be a positive integer, got ${steps}`);
  if (skip === 'uniform') {
    if (steps > trainSteps)
      throw usageError(`--steps ${steps} exceeds the model's ${trainSteps} training steps`, 'use fewer steps');
    const every = Math.floor(trainSteps / steps);
    const seq: number[] = [];
    for (let t = 0; t < trainSteps; t += every) seq.push(t);
    return seq;
  }
  // y * y, not y ** 2, so that the squares are numpy's to the last bit before truncation.
  return Array.from(linspace(0, Math.sqrt(trainSteps * 0.8), steps), (y) => Math.trunc(y * y));
}

export interface StepPair {
  /** the time step the network sees at this sampling step */
  t: number;
  /** the time step this sampling step moves to (−1: the final x_0) */
  next: number;
}

/** Sampling order: step 0 is the noisiest. */
export function samplingPairs(seq: readonly number[]): StepPair[] {
  const pairs: StepPair[] = [];
  for (let i = seq.length - 1; i >= 0; i--) pairs.push({ t: seq[i]!, next: i === 0 ? -1 : seq[i - 1]! });
  return pairs;
}
