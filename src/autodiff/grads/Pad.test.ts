import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Pad gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Pad',
      await checkOp({ op: 'Pad', inputs: [{ dims: [2, 3] }, { dims: [4], int64: [1, 0, 2, 2] }] }),
      1e-6,
    );
  });
  it('handles negative (cropping) pads', async () => {
    expectGrads(
      'Pad(crop)',
      await checkOp({ op: 'Pad', inputs: [{ dims: [3, 4] }, { dims: [4], int64: [-1, 1, 0, -2] }] }),
      1e-6,
    );
  });
});
