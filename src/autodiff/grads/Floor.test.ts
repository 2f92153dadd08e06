import { describe, expect, it } from 'vitest';
import { expectStraightThrough } from '../test-helpers.js';

describe('Floor gradient', () => {
  it('is straight-through: dx = dy, with dy taken at the floored forward value', async () => {
    await expectStraightThrough('Floor', Math.floor);
    expect(true).toBe(true);
  });
});
