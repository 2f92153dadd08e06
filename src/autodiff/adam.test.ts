import { describe, expect, it } from 'vitest';
import { Adam } from './adam.js';

describe('Adam', () => {
  it('takes the bias-corrected first step by hand: lr * g / (|g| + eps)', () => {
    const p = Float32Array.of(1, -2);
    const opt = new Adam({ w: p }, { lr: 0.1 });
    opt.step({ w: [0.5, -0.1] });
    // m = 0.1 g, v = 0.001 g^2; corrected m^ = g, v^ = g^2, so the step is lr * g / (|g| + 1e-8).
    expect(p[0]).toBeCloseTo(1 - (0.1 * 0.5) / (0.5 + 1e-8), 6);
    expect(p[1]).toBeCloseTo(-2 + (0.1 * 0.1) / (0.1 + 1e-8), 6);
    // Second step, g = [0.5, 0.3]: m = [0.095, 0.021], v = [4.9975e-4, 9.999e-5], 1 - b1^2 = 0.19, 1 - b2^2 = 0.001999.
    opt.step({ w: [0.5, 0.3] });
    const step = (m: number, v: number) => (0.1 * (m / 0.19)) / (Math.sqrt(v / 0.001999) + 1e-8);
    expect(p[0]).toBeCloseTo(1 - 0.1 - step(0.095, 4.9975e-4), 6);
    expect(p[1]).toBeCloseTo(-2 + 0.1 - step(0.021, 9.999e-5), 6);
    expect(opt.steps).toBe(2);
  });

  it('matches torch.optim.Adam with weight decay over three steps', () => {
    const p = Float32Array.of(1, -2, 0.25);
    const opt = new Adam({ w: p }, { lr: 0.1, weightDecay: 0.01 });
    // torch 1.13: Adam([p], lr=0.1, weight_decay=0.01), printed after each step.
    const torch = [
      [0.9000000357627869, -1.899999976158142, 0.15000039339065552],
      [0.8000051975250244, -1.9421355724334717, 0.06969664990901947],
      [0.8338078260421753, -2.009340763092041, 0.005775786936283112],
    ];
    const grads = [
      [0.5, -0.1, 0],
      [0.5, 0.3, -1e-3],
      [-2, 0.3, 4],
    ];
    grads.forEach((g, i) => {
      opt.step({ w: g });
      torch[i]!.forEach((want, j) => expect(p[j]).toBeCloseTo(want, 6));
    });
  });

  it('leaves parameters without a gradient alone and follows a changed learning rate', () => {
    const [a, b] = [Float32Array.of(1), Float32Array.of(1)];
    const opt = new Adam({ a, b }, { lr: 0.5 });
    opt.step({ a: [1] });
    expect(b[0]).toBe(1);
    opt.lr = 0;
    opt.step({ a: [1], b: [1] });
    expect(a[0]).toBeCloseTo(0.5, 6);
    expect(() => opt.step({ a: [1, 2] })).toThrow(/gradient of a has 2 values/);
  });
});
