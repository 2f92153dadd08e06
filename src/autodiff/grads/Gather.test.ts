import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Gather gradient', () => {
  it('matches central differences (float64) for a scalar index (cls token)', async () => {
    expectGrads(
      'Gather',
      await checkOp({ op: 'Gather', inputs: [{ dims: [2, 3, 4] }, { dims: [], int64: [-3] }], attrs: { axis: 1 } }),
      1e-6,
    );
  });
  it('sums repeated indices', async () => {
    expectGrads(
      'Gather(repeat)',
      await checkOp({
        op: 'Gather',
        inputs: [{ dims: [3, 2, 2] }, { dims: [2, 2], int64: [2, 0, 2, 1] }],
        attrs: { axis: 0 },
      }),
      1e-6,
    );
  });
});
