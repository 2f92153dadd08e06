import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('GlobalAveragePool gradient', () => {
  it('matches central differences (float32: ORT has no float64 kernel)', async () => {
    const c = { op: 'GlobalAveragePool', inputs: [{ dims: [2, 3, 2, 3] }], dtype: 'float32' as const };
    expectGrads('GlobalAveragePool', await checkOp(c, { floor: 1e-2 }), 2e-3);
  });
});
