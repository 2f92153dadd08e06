import { describe, expect, it } from 'vitest';
import { withoutTimings } from './sidecar.js';

describe('sidecar', () => {
  it('drops timings at any depth from method records and keeps everything else', () => {
    const record = {
      applied: true,
      seconds: 12.5,
      captureSeconds: 1.2,
      units: [{ id: 'up.0.block.0', mseNearest: 0.04, secondsPerIteration: 0.003, flips: [1, 2] }],
      settings: { iterations: 1000, batch: 32 },
      note: null,
    };
    expect(withoutTimings(record)).toEqual({
      applied: true,
      units: [{ id: 'up.0.block.0', mseNearest: 0.04, flips: [1, 2] }],
      settings: { iterations: 1000, batch: 32 },
      note: null,
    });
  });
});
