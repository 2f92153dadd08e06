// DDIM and DDPM sampling over an ONNX noise-prediction UNet, one batch at a time. The updates are the official
// code's (ermongroup/ddim functions/denoising.py, which Q-Diffusion evaluates with), so FIDs are comparable:
//   DDIM (generalized_steps): x0 = (x − √(1−ā_t) ε) / √ā_t;  x' = √ā_next x0 + c1 z + √(1 − ā_next − c1²) ε,
//        c1 = η √((1 − ā_t/ā_next)(1 − ā_next)/(1 − ā_t)), ā(−1) = 1, no clipping of x0.
//   DDPM (ddpm_steps): β = 1 − ā_t/ā_next; x0 from ε clipped to [−1, 1]; mean = (√ā_next β x0 + √(1−β)(1−ā_next) x)
//        / (1 − ā_t); x' = mean + √β z, with no noise where t = 0.
// Arithmetic is float64 per element; x is kept in float32, which is what the network is fed. runtime/ is the only
// way to the network; nothing here prints or writes files.

import type { Model } from '../onnx/ir.js';
import { Session, type SessionOptions } from '../runtime/index.js';
import { modelError, usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { alphasCumprod, betas, type ScheduleConfig } from './schedule.js';
import { ddimTimesteps, samplingPairs, type Skip, type StepPair } from './timesteps.js';
import { seededNoise, type NoiseSource } from './noise.js';
import { unetIO, type UNetIO } from './unet-io.js';

export type SamplerKind = 'ddim' | 'ddpm';

export interface SamplerConfig {
  sampler: SamplerKind;
  /** requested sampling steps S (the sequence may hold one more with uniform spacing; see timesteps.ts) */
  steps: number;
  skip: Skip;
  /** DDIM η (0: deterministic); ignored by DDPM */
  eta: number;
  schedule: ScheduleConfig;
}

export interface StepEvent {
  /** sampling step, 0 = noisiest */
  step: number;
  /** number of sampling steps in this run */
  steps: number;
  t: number;
  next: number;
  /** dataset index of the batch's first sample (sample i of the run is seeded by i) */
  first: number;
  /** x_t as fed to the network, [batch, C, H, W]; a fresh buffer per step, safe to keep */
  x: HostTensor;
  /** the time-step tensor as fed */
  tInput: HostTensor;
  /** the network's ε for x_t */
  eps: HostTensor;
}

export type StepCallback = (e: StepEvent) => void | Promise<void>;

export interface SamplerOptions extends SessionOptions {
  /** default: seededNoise(seed) */
  noise?: NoiseSource;
  seed?: number;
}

export interface BatchOptions {
  onStep?: StepCallback;
  /** x_T to start from instead of the seeded noise (reference checks) */
  initial?: Float32Array;
  /** stop after the network call (and callback) of this step; the result is then that step's x_t, not x_0 */
  lastStep?: number;
}

export function parseSampler(s: string): SamplerKind {
  if (s !== 'ddim' && s !== 'ddpm') throw usageError(`--sampler must be ddim or ddpm, got ${s}`);
  return s;
}

export function checkEta(eta: number): void {
  if (!Number.isFinite(eta) || eta < 0) throw usageError(`--eta must be a number >= 0, got ${eta}`);
}

export class DiffusionSampler {
  readonly io: UNetIO;
  readonly pairs: StepPair[];
  readonly alphasCumprod: Float64Array;
  private readonly noise: NoiseSource;

  private constructor(
    private readonly session: Session,
    io: UNetIO,
    readonly config: SamplerConfig,
    noise: NoiseSource,
  ) {
    this.io = io;
    checkEta(config.eta);
    this.alphasCumprod = alphasCumprod(betas(config.schedule));
    this.pairs = samplingPairs(ddimTimesteps(config.schedule.trainSteps, config.steps, config.skip));
    this.noise = noise;
  }

  static async create(model: Model, config: SamplerConfig, opts: SamplerOptions = {}): Promise<DiffusionSampler> {
    const io = unetIO(model);
    const noise = opts.noise ?? seededNoise(opts.seed ?? 0);
    const { noise: _n, seed: _s, ...session } = opts;
    return new DiffusionSampler(await Session.create(model, session), io, config, noise);
  }

  /** ā(t), with ā(−1) = 1 for the step into x_0. */
  private abar(t: number): number {
    return t < 0 ? 1 : this.alphasCumprod[t]!;
  }

  private timeTensor(t: number, count: number): HostTensor {
    const dims = [count];
    if (this.io.tDtype === 'int64') return { dtype: 'int64', dims, data: new BigInt64Array(count).fill(BigInt(t)) };
    if (this.io.tDtype === 'int32') return { dtype: 'int32', dims, data: new Int32Array(count).fill(t) };
    return { dtype: 'float32', dims, data: new Float32Array(count).fill(t) };
  }

  /** Samples first .. first+count-1 from x_T to x_0 (or to `lastStep`); returns [count, C, H, W] float32. */
  async sampleBatch(first: number, count: number, opts: BatchOptions = {}): Promise<HostTensor> {
    const size = this.io.shape[0] * this.io.shape[1] * this.io.shape[2];
    const dims = [count, ...this.io.shape];
    let x: Float32Array = new Float32Array(count * size);
    if (opts.initial !== undefined) {
      if (opts.initial.length !== x.length)
        throw usageError(`initial noise has ${opts.initial.length} values, expected ${x.length}`);
      x.set(opts.initial);
    } else this.noise({ kind: 'initial' }, first, count, size, x);
    const z = new Float32Array(count * size);
    for (const [step, { t, next }] of this.pairs.entries()) {
      const tInput = this.timeTensor(t, count);
      const xt: HostTensor = { dtype: 'float32', dims, data: x };
      const out = await this.session.run({ [this.io.x]: xt, [this.io.t]: tInput }, [this.io.eps]);
      const eps = out[this.io.eps]!;
      if (eps.dtype !== 'float32' || eps.data.length !== x.length)
        throw modelError(
          `output ${this.io.eps} is ${eps.dtype}[${eps.dims.join(', ')}]; expected float32 [${dims.join(', ')}]`,
        );
      await opts.onStep?.({ step, steps: this.pairs.length, t, next, first, x: xt, tInput, eps });
      if (step === opts.lastStep) break;
      x = this.update(step, t, next, x, eps.data as Float32Array, first, count, size, z);
    }
    return { dtype: 'float32', dims, data: x };
  }

  private update(
    step: number,
    t: number,
    next: number,
    x: Float32Array,
    e: Float32Array,
    first: number,
    count: number,
    size: number,
    z: Float32Array,
  ): Float32Array {
    const at = this.abar(t);
    const an = this.abar(next);
    const out = new Float32Array(x.length);
    if (this.config.sampler === 'ddim') {
      const c1 = this.config.eta * Math.sqrt(((1 - at / an) * (1 - an)) / (1 - at));
      const c2 = Math.sqrt(Math.max(0, 1 - an - c1 * c1));
      if (c1 > 0) this.noise({ kind: 'step', step }, first, count, size, z);
      const sa = Math.sqrt(at);
      const s1a = Math.sqrt(1 - at);
      const sn = Math.sqrt(an);
      for (let i = 0; i < x.length; i++) {
        const x0 = (x[i]! - s1a * e[i]!) / sa;
        out[i] = sn * x0 + (c1 > 0 ? c1 * z[i]! : 0) + c2 * e[i]!;
      }
      return out;
    }
    const beta = 1 - at / an;
    const std = t === 0 ? 0 : Math.sqrt(beta);
    if (std > 0) this.noise({ kind: 'step', step }, first, count, size, z);
    const r1 = Math.sqrt(1 / at);
    const r2 = Math.sqrt(1 / at - 1);
    const cx0 = (Math.sqrt(an) * beta) / (1 - at);
    const cx = (Math.sqrt(1 - beta) * (1 - an)) / (1 - at);
    for (let i = 0; i < x.length; i++) {
      const x0 = Math.min(1, Math.max(-1, r1 * x[i]! - r2 * e[i]!));
      out[i] = cx0 * x0 + cx * x[i]! + (std > 0 ? std * z[i]! : 0);
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
