import { describe, expect, it } from 'vitest';
import { alphasCumprod, betas, linspace, parseBetaSchedule, resolveSchedule } from './schedule.js';
import { ddimTimesteps, samplingPairs } from './timesteps.js';

const cfg = (betaSchedule: 'linear' | 'quadratic' | 'cosine') => ({
  betaSchedule,
  betaStart: 1e-4,
  betaEnd: 0.02,
  trainSteps: 1000,
});

describe('beta schedules (values from numpy, see the DDIM / improved-diffusion code)', () => {
  // [β_0, β_1, β_500, β_999, ā_0, ā_499, ā_999]
  const known = {
    linear: [
      0.0001, 0.00011991991991991993, 0.010059959959959959, 0.02, 0.9999, 0.07858724288177824, 4.035829765375676e-5,
    ],
    quadratic: [
      0.0001, 0.00010264836435083402, 0.005742071067688482, 0.02, 0.9999, 0.3331877673563, 0.0007334124595808159,
    ],
    cosine: [
      4.128422482196914e-5, 4.614175273665033e-5, 0.003155691441585007, 0.999, 0.999958715775178, 0.4938435904406382,
      2.4287669070348567e-9,
    ],
  } as const;
  for (const [name, want] of Object.entries(known)) {
    it(name, () => {
      const b = betas(cfg(name as keyof typeof known));
      const a = alphasCumprod(b);
      const got = [b[0]!, b[1]!, b[500]!, b[999]!, a[0]!, a[499]!, a[999]!];
      got.forEach((v, i) => expect(Math.abs(v - want[i]!) / want[i]!).toBeLessThan(1e-12));
    });
  }

  it('linspace is numpy.linspace, end point exact', () => {
    expect(Array.from(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(1e-4, 0.02, 1000)[999]).toBe(0.02);
    expect(Array.from(linspace(3, 9, 1))).toEqual([3]);
  });

  it('parses schedule names and aliases; rejects others', () => {
    expect(parseBetaSchedule('scaled_linear')).toBe('quadratic');
    expect(parseBetaSchedule('squaredcos_cap_v2')).toBe('cosine');
    expect(() => parseBetaSchedule('sigmoid')).toThrow(/unknown beta schedule/);
  });

  it('takes the recorded scheduler, flags overriding field by field', () => {
    const info = { type: 'ddim', betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainSteps: 1000 };
    expect(resolveSchedule(info)).toEqual({ config: cfg('linear'), fromDefault: false });
    expect(resolveSchedule(info, { trainSteps: 500 }).config.trainSteps).toBe(500);
    expect(resolveSchedule(undefined).fromDefault).toBe(true);
    expect(resolveSchedule(undefined, { betaSchedule: 'cosine', trainSteps: 4000 }).fromDefault).toBe(false);
    expect(() => resolveSchedule(undefined, { betaStart: 2 })).toThrow(/betas must lie in/);
  });
});

describe('DDIM time steps (the official code, numpy values)', () => {
  it('quad, 100 steps: 0..800 with duplicates, and the spec’s 20 calibration steps', () => {
    const seq = ddimTimesteps(1000, 100, 'quad');
    expect(seq.length).toBe(100);
    expect(seq.slice(0, 12)).toEqual([0, 0, 0, 0, 1, 2, 2, 3, 5, 6, 8, 9]);
    expect(seq.slice(-3)).toEqual([768, 783, 800]);
    expect(new Set(seq).size).toBe(96);
    expect(seq.reduce((a, b) => a + b)).toBe(26747);
    const order = samplingPairs(seq).map((p) => p.t);
    const calib = [];
    for (let i = 0; i < 100; i += 100 / 20) calib.push(order[i]);
    expect(calib).toEqual([800, 721, 646, 575, 509, 446, 388, 334, 284, 238, 195, 158, 124, 94, 68, 47, 29, 15, 6, 1]);
  });

  it('quad matches numpy for other sizes', () => {
    expect(ddimTimesteps(1000, 7, 'quad')).toEqual([0, 22, 88, 200, 355, 555, 800]);
    expect(ddimTimesteps(1000, 3, 'quad')).toEqual([0, 200, 800]);
    for (const [T, S, sum, unique, last] of [
      [1000, 50, 13448, 49, 800],
      [1000, 250, 66675, 230, 800],
      [1000, 1000, 266328, 688, 800],
      [4000, 333, 355574, 324, 3200],
    ] as const) {
      const seq = ddimTimesteps(T, S, 'quad');
      expect([seq.reduce((a, b) => a + b), new Set(seq).size, seq.at(-1)]).toEqual([sum, unique, last]);
    }
  });

  it('uniform is range(0, T, T // S), one extra step when S does not divide T', () => {
    expect(ddimTimesteps(1000, 10, 'uniform')).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(ddimTimesteps(1000, 7, 'uniform').length).toBe(8);
    expect(ddimTimesteps(1000, 30, 'uniform').reduce((a, b) => a + b)).toBe(15345);
    expect(ddimTimesteps(1000, 1000, 'uniform').length).toBe(1000);
    expect(() => ddimTimesteps(1000, 1001, 'uniform')).toThrow(/exceeds/);
    expect(() => ddimTimesteps(1000, 0, 'quad')).toThrow(/positive integer/);
  });

  it('walks the sequence in reverse, ending at ā(−1)', () => {
    expect(samplingPairs([0, 0, 5, 9])).toEqual([
      { t: 9, next: 5 },
      { t: 5, next: 0 },
      { t: 0, next: 0 },
      { t: 0, next: -1 },
    ]);
  });
});
