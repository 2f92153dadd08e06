import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Div gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Div', await checkOp({ op: 'Div', inputs: [{ dims: [2, 3] }, { dims: [3], range: [0.5, 2] }] }), 1e-6);
  });
});
