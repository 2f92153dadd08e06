import { describe, expect, it } from 'vitest';
import { expectStraightThrough } from '../test-helpers.js';

describe('Ceil gradient', () => {
  it('is straight-through: dx = dy, with dy taken at the ceiled forward value', async () => {
    await expectStraightThrough('Ceil', Math.ceil);
    expect(true).toBe(true);
  });
});
