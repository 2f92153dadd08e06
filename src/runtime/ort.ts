// The only module that imports onnxruntime-node. Everything else talks HostTensor and serialized models.

import * as ort from 'onnxruntime-node';
import { describeError, runtimeError, usageError } from '../errors.js';
import type { HostData, HostDType, HostTensor } from '../util/host-tensor.js';

export type Device = 'cpu' | 'cuda';

export interface OrtSessionOptions {
  device?: Device;
  /** intra-op threads (default: ORT's choice, all cores) */
  threads?: number;
  /** graph optimizations; probing turns them off so every requested tensor still exists */
  optimize?: boolean;
  /** write the graph ORT actually runs (after its optimizations) here, to see which ops ran in integer */
  optimizedModelPath?: string;
  /** false: intra-op threads sleep instead of spinning between ops (better on a machine with more busy threads
   * than cores; see docs/performance.md) */
  spinning?: boolean;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, HostTensor>, fetch?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export const onnxruntimeVersion: string = ort.env.versions.common;

function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const backend = ort.listSupportedBackends().find((b) => b.name === device);
  if (backend === undefined || !backend.bundled)
    throw usageError(
      `--device ${device} is not available in this onnxruntime-node build`,
      'install the CUDA files with `npm rebuild onnxruntime-node` and onnxruntime-node-install unset in .npmrc, or use --device cpu',
    );
}

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data as never, t.dims);
}

function fromOrt(t: ort.Tensor, name: string): HostTensor {
  const type = t.type as string;
  const known: HostDType[] = ['float32', 'float64', 'int64', 'int32', 'int8', 'uint8', 'bool'];
  if (!known.includes(type as HostDType)) throw runtimeError(`output ${name} has unsupported type ${type}`);
  return { dtype: type as HostDType, dims: [...t.dims], data: t.data as HostData };
}

export async function createOrtSession(modelBytes: Uint8Array, opts: OrtSessionOptions = {}): Promise<OrtSession> {
  const device = opts.device ?? 'cpu';
  checkDevice(device);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: opts.optimize === false ? 'disabled' : 'all',
    logSeverityLevel: 4,
  };
  if (opts.optimizedModelPath !== undefined) options.optimizedModelFilePath = opts.optimizedModelPath;
  if (opts.spinning === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  if (opts.threads !== undefined) {
    options.intraOpNumThreads = opts.threads;
    options.interOpNumThreads = 1;
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelBytes, options);
  } catch (e) {
    throw runtimeError(
      `onnxruntime cannot load the model: ${describeError(e)}`,
      'check the opset and operators with `quantlens inspect`',
    );
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetch) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
      let out: ort.InferenceSession.ReturnType;
      try {
        out = fetch === undefined ? await session.run(ortFeeds) : await session.run(ortFeeds, [...fetch]);
      } catch (e) {
        throw runtimeError(`onnxruntime failed to run the model: ${describeError(e)}`);
      }
      const result: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(out)) result[k] = fromOrt(v, k);
      return result;
    },
    release: () => session.release(),
  };
}
