import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Flatten gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Flatten', await checkOp({ op: 'Flatten', inputs: [{ dims: [2, 3, 4] }], attrs: { axis: 2 } }), 1e-6);
  });
});
