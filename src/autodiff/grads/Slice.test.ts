import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Slice gradient', () => {
  it('matches central differences (float64) with negative starts and a step', async () => {
    expectGrads(
      'Slice',
      await checkOp({
        op: 'Slice',
        inputs: [
          { dims: [4, 7] },
          { dims: [2], int64: [1, -6] },
          { dims: [2], int64: [3, 100] },
          { dims: [2], int64: [0, 1] },
          { dims: [2], int64: [1, 2] },
        ],
      }),
      1e-6,
    );
  });
  it('handles negative steps', async () => {
    expectGrads(
      'Slice(-2)',
      await checkOp({
        op: 'Slice',
        inputs: [
          { dims: [3, 6] },
          { dims: [1], int64: [4] },
          { dims: [1], int64: [0] },
          { dims: [1], int64: [1] },
          { dims: [1], int64: [-2] },
        ],
      }),
      1e-6,
    );
  });
  it('handles Swin patch merging (every second row and column)', async () => {
    expectGrads(
      'Slice(merge)',
      await checkOp({
        op: 'Slice',
        inputs: [
          { dims: [1, 4, 4, 2] },
          { dims: [2], int64: [1, 0] },
          { dims: [2], int64: [9223372036854775807n, 9223372036854775807n] },
          { dims: [2], int64: [1, 2] },
          { dims: [2], int64: [2, 2] },
        ],
      }),
      1e-6,
    );
  });
});
