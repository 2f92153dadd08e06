// Sessions over an IR model held in memory. The model is serialized once per session; feeds are checked against
// the model's declared input shapes so a wrong dataset fails with one line instead of an ORT stack.

import type { Model, TensorType } from '../onnx/ir.js';
import { isTensorType } from '../onnx/ir.js';
import { serializeModel } from '../onnx/io/index.js';
import { cloneModel } from '../onnx/clone.js';
import { dataError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { createOrtSession, type OrtSession, type OrtSessionOptions } from './ort.js';

export type SessionOptions = OrtSessionOptions;

export interface InputSpec {
  name: string;
  type: TensorType | undefined;
}

/** Graph inputs that are not initializers (old exports list initializers as inputs too). */
export function modelInputs(model: Model): InputSpec[] {
  return model.graph.inputs
    .filter((i) => !model.graph.initializers.has(i.name))
    .map((i) => ({ name: i.name, type: isTensorType(i.type) ? i.type : undefined }));
}

export function checkFeed(spec: InputSpec, t: HostTensor): void {
  const shape = spec.type?.shape;
  if (spec.type !== undefined && spec.type.dtype !== t.dtype && !(spec.type.dtype === 'bool' && t.dtype === 'uint8'))
    throw dataError(`model input ${spec.name} expects ${spec.type.dtype}, the data gives ${t.dtype}`);
  if (shape === undefined) return;
  const bad = shape.length !== t.dims.length || shape.some((d, i) => typeof d === 'number' && d !== t.dims[i]);
  if (bad)
    throw dataError(
      `model input ${spec.name} expects shape [${shape.map((d) => d ?? '?').join(', ')}], the data gives [${t.dims.join(', ')}]`,
      'check --size/--channels/--pad (or the model manifest) against the model input',
    );
}

/**
 * ONNX writes an absent optional input as '' or leaves it out, which mean the same. onnxruntime 1.30 crashes the
 * process (SIGSEGV, with graph optimizations 'extended' or 'all') on a LayerNormalization whose bias is '' (found by
 * the fuzzer: docs/reliability.md), so ORT gets the trailing empty inputs left out. Subgraphs are passed as they are.
 */
function withoutTrailingEmptyInputs(model: Model): Model {
  if (!model.graph.nodes.some((n) => n.inputs.at(-1) === '')) return model;
  const copy = cloneModel(model);
  for (const node of copy.graph.nodes) {
    let n = node.inputs.length;
    while (n > 0 && node.inputs[n - 1] === '') n--;
    // '' is never linked as a consumed value, so dropping it needs no Graph bookkeeping.
    if (n < node.inputs.length) node._setInputs(node.inputs.slice(0, n));
  }
  return copy;
}

export class Session {
  readonly inputs: InputSpec[];
  readonly outputNames: readonly string[];

  private constructor(
    private readonly ort: OrtSession,
    inputs: InputSpec[],
  ) {
    this.inputs = inputs;
    this.outputNames = ort.outputNames;
  }

  static async create(model: Model, opts: SessionOptions = {}): Promise<Session> {
    const ort = await createOrtSession(serializeModel(withoutTrailingEmptyInputs(model)), opts);
    return new Session(ort, modelInputs(model));
  }

  async run(feeds: Record<string, HostTensor>, fetch?: readonly string[]): Promise<Record<string, HostTensor>> {
    for (const spec of this.inputs) {
      const t = feeds[spec.name];
      if (t === undefined)
        throw dataError(
          `no data for model input ${spec.name}`,
          `the data provides: ${Object.keys(feeds).join(', ') || 'nothing'}`,
        );
      checkFeed(spec, t);
    }
    return this.ort.run(feeds, fetch);
  }

  release(): Promise<void> {
    return this.ort.release();
  }
}
