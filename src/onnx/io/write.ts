// Serializing the IR: to bytes (for ORT sessions in memory) or to files, atomically, optionally with tensors in one
// external data file beside the model.
//
// A model with external data is two files and no rename covers both. By default the data file is therefore named
// after its content (`<model>.<sha256 prefix>.data`): the new data never overwrites the data the old model points
// at, so a write killed between the two renames leaves the old model whole. Once the new model is in place,
// data files of that pattern that it does not use are removed.

import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Model, Tensor } from '../ir.js';
import { modelToProto } from './to-proto.js';
import { checkLocationSyntax } from './external-data.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { usageError } from '../../errors.js';

export interface WriteOptions {
  /**
   * Store initializers of at least `threshold` bytes (default 1024) in `location` beside the model. Without a
   * `location` the name is `<model file>.<first 16 hex digits of the data's sha256>.data`; a fixed `location` that
   * the old model also used loses that protection (the old model then sees the new data if the write is killed
   * between the data and the model rename).
   */
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
    // An inline model over one that had content-named data: that data is now unused.
    removeSupersededData(path, '');
    return;
  }
  const fixed = external.location;
  // Without a fixed location, a placeholder name while the data is laid out; the content name replaces it below.
  let location = fixed ?? `${basename(path)}.${'0'.repeat(HASH_DIGITS)}.data`;
  checkLocationSyntax(location, '(output)');
  if (resolve(dirname(path), location) === resolve(path))
    throw usageError(
      `external data location "${location}" is the model file itself`,
      'choose another --external-data name',
    );
  const threshold = external.threshold ?? 1024;
  const layout = (at: string) => {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const placeExternal = (t: Tensor) => {
      if (t.data.byteLength < threshold) return undefined;
      // 4 KiB alignment lets readers mmap tensors, as the ONNX library does.
      const pad = (4096 - (offset % 4096)) % 4096;
      if (pad > 0) chunks.push(new Uint8Array(pad));
      offset += pad;
      const placed = { location: at, offset, length: t.data.byteLength };
      chunks.push(t.data);
      offset += t.data.byteLength;
      return placed;
    };
    return { proto: modelToProto(model, { placeExternal }), chunks };
  };
  let { proto, chunks } = layout(location);
  if (fixed === undefined) {
    // Offsets do not depend on the name, so a second layout under the content name places the same bytes.
    location = contentName(basename(path), chunks);
    ({ proto, chunks } = layout(location));
  }
  // Data first: a model file never points at data that is not there yet.
  writeFileAtomic(join(dirname(path), location), chunks);
  writeFileAtomic(path, toBinary(ModelProtoSchema, proto));
  removeSupersededData(path, location);
}

const HASH_DIGITS = 16;

function contentName(modelFile: string, chunks: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return `${modelFile}.${h.digest('hex').slice(0, HASH_DIGITS)}.data`;
}

/** Content-named data files of this model other than `keep`: what earlier writes left and nothing now uses. */
function removeSupersededData(path: string, keep: string): void {
  const prefix = `${basename(path)}.`;
  const pattern = new RegExp(`^[0-9a-f]{${HASH_DIGITS}}\\.data$`);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const n of names)
    if (n !== keep && n.startsWith(prefix) && pattern.test(n.slice(prefix.length)))
      rmSync(join(dirname(path), n), { force: true });
}
