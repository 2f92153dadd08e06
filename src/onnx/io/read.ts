// Reading ONNX models from bytes or files into the IR.

import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Model, Tensor } from '../ir.js';
import { modelFromProto, tensorFromProto } from './from-proto.js';
import { makeExternalLoader } from './external-data.js';
import { DEFAULT_LIMITS, type ReadLimits } from './limits.js';
import { describeError, ioError, isQuantlensError, limitError, modelError } from '../../errors.js';

export interface ReadOptions {
  /** Folder that external data locations are resolved in (default: the model file's folder). */
  baseDir?: string;
  limits?: Partial<ReadLimits>;
}

/**
 * Tensor data aliases the input bytes; a Node Buffer would make it a Buffer, whose slice() is a view, not the copy
 * that code handling Uint8Arrays expects.
 */
function plain(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

function decode(bytes: Uint8Array, what: string): ModelProto {
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw modelError(
      `${what} is not an ONNX model (protobuf decoding failed: ${describeError(e)})`,
      'is the file truncated?',
    );
  }
  if (proto.graph === undefined || proto.opsetImport.length === 0)
    throw modelError(
      `${what} is not an ONNX model (no graph or no opset import)`,
      'is the file truncated or of another format?',
    );
  return proto;
}

/** Parse model bytes. External data is only allowed when `baseDir` is given. */
export function parseModel(bytes: Uint8Array, opts: ReadOptions & { what?: string } = {}): Model {
  const what = opts.what ?? 'input';
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const proto = decode(plain(bytes), what);
  const baseDir = opts.baseDir;
  try {
    return modelFromProto(proto, {
      ...limits,
      loadExternal:
        baseDir === undefined
          ? (tensor) => {
              throw modelError(`tensor ${tensor}: external data is not available for an in-memory model`);
            }
          : makeExternalLoader(baseDir),
    });
  } catch (e) {
    if (isQuantlensError(e)) {
      e.message = `${what}: ${e.message}`;
      throw e;
    }
    throw modelError(`${what}: ${describeError(e)}`, undefined, e);
  }
}

/** Parse a serialized TensorProto (e.g. the `.pb` inputs of ONNX's test data). Inline data only. */
export function parseTensor(bytes: Uint8Array, opts: { limits?: Partial<ReadLimits>; what?: string } = {}): Tensor {
  const what = opts.what ?? 'tensor';
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let proto: TensorProto;
  try {
    proto = fromBinary(TensorProtoSchema, plain(bytes));
  } catch (e) {
    throw modelError(
      `${what} is not an ONNX tensor (protobuf decoding failed: ${describeError(e)})`,
      'is the file truncated?',
    );
  }
  try {
    return tensorFromProto(proto, {
      ...limits,
      loadExternal: (tensor) => {
        throw modelError(`tensor ${tensor}: external data is not supported for a standalone tensor`);
      },
    });
  } catch (e) {
    if (isQuantlensError(e)) {
      e.message = `${what}: ${e.message}`;
      throw e;
    }
    throw modelError(`${what}: ${describeError(e)}`, undefined, e);
  }
}

export function readModel(path: string, opts: ReadOptions = {}): Model {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw ioError(`model path ${path} is not a file`);
    size = st.size;
  } catch (e) {
    if (isQuantlensError(e)) throw e;
    throw ioError(`model file not found: ${path}`, 'give a path to an .onnx file or a shipped model name');
  }
  if (size > limits.maxFileBytes)
    throw limitError(`model file ${path} is ${size} bytes, over the ${limits.maxFileBytes}-byte limit`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw ioError(`cannot read model file ${path}: ${describeError(e)}`);
  }
  return parseModel(bytes, { ...opts, baseDir: opts.baseDir ?? dirname(resolve(path)), what: path });
}
