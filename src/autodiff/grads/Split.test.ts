import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Split gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Split',
      await checkOp({
        op: 'Split',
        inputs: [{ dims: [2, 6] }, { dims: [3], int64: [1, 2, 3] }],
        attrs: { axis: 1 },
        outputs: 3,
      }),
      1e-6,
    );
  });
  it('fills zeros for outputs the loss does not read', async () => {
    expectGrads(
      'Split(unused)',
      await checkOp({ op: 'Split', inputs: [{ dims: [4, 3] }], outputs: 2, lossOn: [1] }),
      1e-6,
    );
  });
});
