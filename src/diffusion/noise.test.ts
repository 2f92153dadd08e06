import { describe, expect, it } from 'vitest';
import { fillNormal, philox4x32, seededNoise } from './noise.js';

describe('Philox4x32-10', () => {
  it('reproduces the Random123 known-answer vectors', () => {
    const out = new Uint32Array(4);
    const hex = () => Array.from(out, (v) => v.toString(16).padStart(8, '0'));
    philox4x32([0, 0, 0, 0], [0, 0], out);
    expect(hex()).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], out);
    expect(hex()).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], out);
    expect(hex()).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
});

describe('seeded normal noise', () => {
  it('is N(0, 1): mean, variance, tails', () => {
    const n = 200_000;
    const x = new Float32Array(n);
    fillNormal(5, 0, 0, x, 0, n);
    let m = 0;
    let v = 0;
    let tail = 0;
    for (const a of x) m += a;
    m /= n;
    for (const a of x) {
      v += (a - m) ** 2;
      if (Math.abs(a) > 1.96) tail++;
    }
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(tail / n - 0.05)).toBeLessThan(0.003);
  });

  it('depends on (seed, sample, slot) only, not on how samples are batched', () => {
    const noise = seededNoise(42);
    const all = new Float32Array(5 * 7);
    noise({ kind: 'initial' }, 0, 5, 7, all);
    const part = new Float32Array(2 * 7);
    noise({ kind: 'initial' }, 3, 2, 7, part);
    expect(Array.from(part)).toEqual(Array.from(all.subarray(21)));
    const step = new Float32Array(7);
    noise({ kind: 'step', step: 0 }, 3, 1, 7, step);
    expect(Array.from(step)).not.toEqual(Array.from(all.subarray(21, 28)));
    const other = new Float32Array(7);
    seededNoise(43)({ kind: 'initial' }, 3, 1, 7, other);
    expect(Array.from(other)).not.toEqual(Array.from(all.subarray(21, 28)));
  });

  it('uses seeds above 2^32 without aliasing their low bits', () => {
    const a = new Float32Array(4);
    const b = new Float32Array(4);
    fillNormal(7, 0, 0, a, 0, 4);
    fillNormal(7 + 2 ** 32, 0, 0, b, 0, 4);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(() => seededNoise(-1)).toThrow(/--seed/);
  });
});
