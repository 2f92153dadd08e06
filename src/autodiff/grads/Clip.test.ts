import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Clip gradient', () => {
  it('matches central differences (float64) for x and both bounds', async () => {
    expectGrads(
      'Clip',
      await checkOp({
        op: 'Clip',
        inputs: [
          { dims: [3, 4], range: [-2, 2] },
          { dims: [], values: [-0.7] },
          { dims: [], values: [0.9] },
        ],
      }),
      1e-6,
    );
  });
  it('works with only a lower bound', async () => {
    expectGrads(
      'Clip(min)',
      await checkOp({
        op: 'Clip',
        inputs: [
          { dims: [3, 4], range: [-2, 2] },
          { dims: [], values: [-0.5], constant: true },
        ],
      }),
      1e-6,
    );
  });
});
