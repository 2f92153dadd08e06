// Evaluation batches have the gradient graph's fixed size yet weigh every cached sample exactly once.

import { describe, expect, it } from 'vitest';
import { evaluationBatches, evaluationMean } from './minibatch.js';

describe('evaluation batches', () => {
  it.each([
    [32, 16],
    [40, 32],
    [37, 8],
    [5, 5],
  ])('weigh each of %i samples once with batches of %i', async (samples, batch) => {
    const chunks = evaluationBatches(samples, batch);
    const share = new Array<number>(samples).fill(0);
    for (const { indices, weight } of chunks) {
      expect(indices).toHaveLength(batch);
      for (const i of indices) share[i]! += weight / batch;
    }
    for (const s of share) expect(s).toBeCloseTo(1, 12);
    const value = (i: number) => (i * 7919) % 101;
    const exact = Array.from({ length: samples }, (_, i) => value(i)).reduce((a, b) => a + b, 0) / samples;
    const mean = await evaluationMean(samples, batch, async (idx) => idx.reduce((a, i) => a + value(i), 0) / batch);
    expect(mean).toBeCloseTo(exact, 10);
  });

  it('costs no extra batch when the batch divides the samples', () => {
    expect(evaluationBatches(64, 16)).toHaveLength(4);
    expect(evaluationBatches(40, 32)).toHaveLength(2); // 32 + the 8 leftovers cycled in one batch
  });
});
