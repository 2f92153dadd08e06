import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('InstanceNormalization gradient', () => {
  it('matches central differences (float32: ORT has no float64 kernel)', async () => {
    expectGrads(
      'InstanceNormalization',
      await checkOp(
        {
          op: 'InstanceNormalization',
          inputs: [{ dims: [2, 3, 2, 3] }, { dims: [3] }, { dims: [3] }],
          attrs: { epsilon: 1e-5 },
          dtype: 'float32',
        },
        { floor: 1e-2 },
      ),
      2e-3,
    );
  });
});
