import { describe, expect, it } from 'vitest';
import { inceptionScore } from './inception-score.js';

describe('inceptionScore', () => {
  it('is 1 for uniform predictions', () => {
    const is = inceptionScore(new Float32Array(100 * 10).fill(3), 10, 10);
    expect(is.mean).toBeCloseTo(1, 12);
    expect(is.std).toBeCloseTo(0, 12);
  });

  it('is the number of classes for confident, balanced predictions', () => {
    const classes = 7;
    const n = 70;
    const logits = new Float32Array(n * classes).fill(-60);
    for (let i = 0; i < n; i++) logits[i * classes + (i % classes)] = 60;
    const is = inceptionScore(logits, classes, 10);
    expect(is.mean).toBeCloseTo(classes, 9);
    expect(is.std).toBeLessThan(1e-9);
  });

  it('is 1 when every image gets the same confident class', () => {
    const logits = new Float32Array(20 * 4);
    for (let i = 0; i < 20; i++) logits[i * 4 + 2] = 50;
    expect(inceptionScore(logits, 4, 2).mean).toBeCloseTo(1, 9);
  });

  it('matches exp(KL) computed by hand on two samples', () => {
    // p1 = softmax(0, ln 3) = (1/4, 3/4), p2 = (3/4, 1/4), p(y) = (1/2, 1/2)
    const l = Float32Array.of(0, Math.log(3), Math.log(3), 0);
    const kl = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
    expect(inceptionScore(l, 2, 1).mean).toBeCloseTo(Math.exp(kl), 6);
  });

  it('splits into consecutive chunks', () => {
    // First half: all class 0; second half: all class 1. One split: IS 2; two splits: IS 1 each.
    const logits = new Float32Array(8 * 2);
    for (let i = 0; i < 8; i++) logits[i * 2 + (i < 4 ? 0 : 1)] = 80;
    expect(inceptionScore(logits, 2, 1).mean).toBeCloseTo(2, 9);
    expect(inceptionScore(logits, 2, 2).mean).toBeCloseTo(1, 9);
  });

  it('rejects too few samples and bad logits', () => {
    expect(() => inceptionScore(new Float32Array(5 * 3), 3, 10)).toThrow(/at least 10 samples/);
    expect(() => inceptionScore(Float32Array.of(1, Infinity), 2, 1)).toThrow(/logit 1 is Infinity/);
    expect(() => inceptionScore(new Float32Array(5), 2, 1)).toThrow(/rows of 2/);
  });
});
