import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Unsqueeze gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Unsqueeze',
      await checkOp({ op: 'Unsqueeze', inputs: [{ dims: [2, 3] }, { dims: [2], int64: [0, 3] }] }),
      1e-6,
    );
  });
});
