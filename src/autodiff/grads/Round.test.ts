import { describe, expect, it } from 'vitest';
import { expectStraightThrough } from '../test-helpers.js';
import { roundHalfEven } from '../../quant/round.js';

describe('Round gradient', () => {
  it('is straight-through: dx = dy, with dy taken at the rounded forward value', async () => {
    await expectStraightThrough('Round', roundHalfEven);
    expect(true).toBe(true);
  });
});
