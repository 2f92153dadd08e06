// Running a gradient graph: one ORT session, one run per iteration returning the loss and every gradient as flat
// typed arrays that an optimizer (adam.ts) updates parameters with. Imports the runtime.

import { Session, type SessionOptions } from '../runtime/session.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { GradientGraph } from './gradient-graph.js';

export interface GradientStep {
  loss: number;
  /** wrt name -> gradient, laid out as the parameter */
  grads: Record<string, Float32Array | Float64Array>;
  /** the extra forward outputs that were asked for */
  outputs: Record<string, HostTensor>;
}

export class GradientRunner {
  private constructor(
    private readonly session: Session,
    private readonly graph: GradientGraph,
  ) {}

  static async create(graph: GradientGraph, opts: SessionOptions = {}): Promise<GradientRunner> {
    return new GradientRunner(await Session.create(graph.model, opts), graph);
  }

  /** Feeds: every graph input (`graph.inputs`), parameters included. */
  async run(feeds: Readonly<Record<string, HostTensor>>): Promise<GradientStep> {
    const out = await this.session.run({ ...feeds });
    const grads: GradientStep['grads'] = {};
    for (const [w, name] of Object.entries(this.graph.gradients)) grads[w] = out[name]!.data as Float32Array;
    const outputs: Record<string, HostTensor> = {};
    const taken = new Set([this.graph.loss, ...Object.values(this.graph.gradients)]);
    for (const [k, v] of Object.entries(out)) if (!taken.has(k)) outputs[k] = v;
    return { loss: Number(out[this.graph.loss]!.data[0]), grads, outputs };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
