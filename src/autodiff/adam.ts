// Adam on flat Float32Arrays, as torch.optim.Adam (bias-corrected moments, eps added after the square root of the
// corrected second moment, weight decay as an L2 term added to the gradient; no amsgrad). Moments are float32, as
// torch keeps them for float32 parameters; each element is computed in double and rounded once. The learning rate
// may change between steps (Q-Diffusion's cosine decay for step sizes). Imports nothing.

export interface AdamOptions {
  /** default 1e-3 */
  lr?: number;
  /** default [0.9, 0.999] */
  betas?: [number, number];
  /** default 1e-8 */
  eps?: number;
  /** L2 penalty added to the gradient (default 0) */
  weightDecay?: number;
}

type Params = Record<string, Float32Array>;

export class Adam {
  lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private t = 0;

  /** Optimizes `params` in place; the arrays are kept by reference. */
  constructor(
    readonly params: Params,
    opts: AdamOptions = {},
  ) {
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    for (const [k, p] of Object.entries(params)) {
      this.m.set(k, new Float32Array(p.length));
      this.v.set(k, new Float32Array(p.length));
    }
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One update from gradients laid out as the parameters (parameters without a gradient are left alone). */
  step(grads: Readonly<Record<string, ArrayLike<number>>>): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this;
    const stepSize = this.lr / (1 - beta1 ** this.t);
    const sqrtCorrection2 = Math.sqrt(1 - beta2 ** this.t);
    for (const [k, p] of Object.entries(this.params)) {
      const g = grads[k];
      if (g === undefined) continue;
      if (g.length !== p.length)
        throw new Error(`Adam: gradient of ${k} has ${g.length} values, the parameter ${p.length}`);
      const m = this.m.get(k)!;
      const v = this.v.get(k)!;
      for (let i = 0; i < p.length; i++) {
        const gi = weightDecay === 0 ? g[i]! : g[i]! + weightDecay * p[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        p[i] = p[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / sqrtCorrection2 + eps);
      }
    }
  }
}
