import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Erf gradient', () => {
  it('matches central differences (float32: ORT has no float64 kernel)', async () => {
    expectGrads(
      'Erf',
      await checkOp({ op: 'Erf', inputs: [{ dims: [2, 3], range: [-2, 2] }], dtype: 'float32' }, { floor: 1e-2 }),
      2e-3,
    );
  });
});
