import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Sum gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Sum', await checkOp({ op: 'Sum', inputs: [{ dims: [2, 3] }, { dims: [3] }, { dims: [2, 1] }] }), 1e-6);
  });
});
