// Probing: expose intermediate tensors as extra graph outputs and stream them back batch by batch. ORT graph
// optimizations are off so that every named tensor still exists (fusions would remove them).

import type { Model, Tensor } from '../onnx/ir.js';
import { toFloat32 } from '../onnx/tensor.js';
import { modelError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { Session, type SessionOptions } from './session.js';

export type Feeds = Record<string, HostTensor>;

/** A session that returns `tensors` (any value names in the graph) alongside nothing else. */
export class Prober {
  private constructor(
    private readonly session: Session,
    private readonly tensors: readonly string[],
    private readonly passthrough: ReadonlySet<string>,
    private readonly constants: ReadonlyMap<string, HostTensor>,
  ) {}

  static async create(model: Model, tensors: readonly string[], opts: SessionOptions = {}): Promise<Prober> {
    const g = model.graph;
    const inputNames = new Set(g.inputs.map((i) => i.name));
    const constants = new Map<string, HostTensor>();
    const fetched: string[] = [];
    for (const name of tensors) {
      const init = g.initializers.get(name);
      if (init !== undefined && !inputNames.has(name)) {
        constants.set(name, initializerToHost(init));
        continue;
      }
      if (inputNames.has(name)) continue;
      if (g.producerOf(name) === undefined)
        throw modelError(`cannot probe ${name}: no node produces a tensor of that name`);
      fetched.push(name);
    }
    const savedOutputs = g.outputs;
    const existing = new Set(savedOutputs.map((o) => o.name));
    g.outputs = [...savedOutputs, ...fetched.filter((n) => !existing.has(n)).map((name) => ({ name }))];
    let session: Session;
    try {
      session = await Session.create(model, { ...opts, optimize: false });
    } finally {
      g.outputs = savedOutputs;
    }
    return new Prober(session, tensors, inputNames, constants);
  }

  /** Run one batch and return the probed tensors by name. */
  async run(feeds: Feeds): Promise<Map<string, HostTensor>> {
    const fetch = this.tensors.filter((t) => !this.passthrough.has(t) && !this.constants.has(t));
    const out = fetch.length > 0 ? await this.session.run(feeds, fetch) : (await this.session.run(feeds), {});
    const result = new Map<string, HostTensor>();
    for (const name of this.tensors) {
      const t = this.passthrough.has(name) ? feeds[name] : (this.constants.get(name) ?? out[name]);
      if (t === undefined) throw modelError(`probe returned no value for ${name}`);
      result.set(name, t);
    }
    return result;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Stream probed tensors for every batch of `feeds`. */
export async function* probe(
  model: Model,
  tensors: readonly string[],
  feeds: AsyncIterable<Feeds> | Iterable<Feeds>,
  opts: SessionOptions = {},
): AsyncGenerator<Map<string, HostTensor>> {
  const prober = await Prober.create(model, tensors, opts);
  try {
    for await (const f of feeds) yield await prober.run(f);
  } finally {
    await prober.release();
  }
}

function initializerToHost(t: Tensor): HostTensor {
  return { dtype: 'float32', dims: [...t.dims], data: toFloat32(t) };
}
