// Serializing the IR: to bytes (for ORT sessions in memory) or to files, atomically, optionally with tensors in one
// external data file beside the model.

import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { basename, dirname, join, resolve } from 'node:path';
import type { Model, Tensor } from '../ir.js';
import { modelToProto } from './to-proto.js';
import { checkLocationSyntax } from './external-data.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { usageError } from '../../errors.js';

export interface WriteOptions {
  /** Store initializers of at least `threshold` bytes (default 1024) in `location` beside the model. */
  externalData?: { location?: string; threshold?: number };
}

/** Serialize with every tensor inline (what ORT sessions in memory get). Keeps nodes in topological order. */
export function serializeModel(model: Model): Uint8Array {
  model.graph.topoSort();
  return toBinary(ModelProtoSchema, modelToProto(model));
}

/** Past this size protobuf cannot hold the model; tensors then go to external data automatically. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

function totalTensorBytes(model: Model): number {
  let n = 0;
  for (const t of model.graph.initializers.values()) n += t.data.byteLength;
  return n;
}

export function writeModel(model: Model, path: string, opts: WriteOptions = {}): void {
  model.graph.topoSort();
  let external = opts.externalData;
  if (external === undefined && totalTensorBytes(model) > PROTOBUF_LIMIT * 0.9) external = {};
  if (external === undefined) {
    writeFileAtomic(path, toBinary(ModelProtoSchema, modelToProto(model)));
    return;
  }
  const location = external.location ?? `${basename(path)}.data`;
  checkLocationSyntax(location, '(output)');
  if (resolve(dirname(path), location) === resolve(path))
    throw usageError(
      `external data location "${location}" is the model file itself`,
      'choose another --external-data name',
    );
  const threshold = external.threshold ?? 1024;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const placeExternal = (t: Tensor) => {
    if (t.data.byteLength < threshold) return undefined;
    // 4 KiB alignment lets readers mmap tensors, as the ONNX library does.
    const pad = (4096 - (offset % 4096)) % 4096;
    if (pad > 0) chunks.push(new Uint8Array(pad));
    offset += pad;
    const placed = { location, offset, length: t.data.byteLength };
    chunks.push(t.data);
    offset += t.data.byteLength;
    return placed;
  };
  const proto = modelToProto(model, { placeExternal });
  // Data first: a model file never points at data that is not there yet.
  writeFileAtomic(join(dirname(path), location), chunks);
  writeFileAtomic(path, toBinary(ModelProtoSchema, proto));
}
