import { describe, expect, it } from 'vitest';
import { roundHalfEven, roundHalfEvenF32 } from './round.js';
import { rng } from './test-helpers.js';

describe('roundHalfEven', () => {
  it('rounds ties to even like torch.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, -2, 4]);
  });

  it('rounds non-ties to nearest, including negatives', () => {
    expect([0.49, 0.51, -0.49, -0.51, 1.2, -1.7, 7, -7].map(roundHalfEven)).toEqual([0, 1, 0, -1, 1, -2, 7, -7]);
  });

  it('passes huge values, infinities and NaN through', () => {
    expect(roundHalfEven(2 ** 53 + 2)).toBe(2 ** 53 + 2);
    expect(roundHalfEven(4503599627370495.5)).toBe(4503599627370496);
    expect(roundHalfEven(2 ** 51 + 0.5)).toBe(2 ** 51); // above the fast path's range
    expect(roundHalfEven(2 ** 51 + 1.5)).toBe(2 ** 51 + 2);
    expect(roundHalfEven(-(2 ** 51) - 0.5)).toBe(-(2 ** 51));
    expect(roundHalfEven(Infinity)).toBe(Infinity);
    expect(roundHalfEven(-Infinity)).toBe(-Infinity);
    expect(roundHalfEven(NaN)).toBeNaN();
  });

  it('is within 1/2 and picks the even neighbour exactly at ties (random halves and non-halves)', () => {
    const rand = rng(1);
    const bad: number[] = [];
    for (let k = 0; k < 20000; k++) {
      const x = k % 2 === 0 ? Math.floor((rand() - 0.5) * 2000) + 0.5 : (rand() - 0.5) * 1e6;
      const r = roundHalfEven(x);
      const d = Math.abs(r - x);
      if (!Number.isInteger(r) || d > 0.5 || (d === 0.5 && r % 2 !== 0)) bad.push(x);
    }
    expect(bad).toEqual([]);
  });

  it('has a float32 fast path that agrees on float32 inputs of every magnitude', () => {
    const rand = rng(2);
    const bad: number[] = [];
    for (let k = 0; k < 20000; k++) {
      const x = Math.fround((rand() - 0.5) * 2 ** (rand() * 80 - 10));
      const h = Math.fround(Math.floor(x * 2) / 2); // plenty of exact halves
      for (const v of [x, h]) if (roundHalfEvenF32(v) !== roundHalfEven(v)) bad.push(v);
    }
    expect(bad).toEqual([]);
  });
});
