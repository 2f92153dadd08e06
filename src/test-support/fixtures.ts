// Test helpers for the committed fixtures (fixtures/*.onnx and their PyTorch reference dumps).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../util/host-tensor.js';

export const fixturesDir = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const fixturePath = (name: string) => `${fixturesDir}${name}`;

interface RefTensorJson {
  dtype: 'float32' | 'int64';
  shape: number[];
  data: string;
}

export interface RefEntry {
  module: string;
  kind: string;
  tensor: string;
  value: HostTensor;
}

export interface Reference {
  inputs: Record<string, HostTensor>;
  outputs: Record<string, HostTensor>;
  tensors: RefEntry[];
}

function decode(t: RefTensorJson): HostTensor {
  const bytes = Buffer.from(t.data, 'base64');
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return t.dtype === 'int64'
    ? { dtype: 'int64', dims: t.shape, data: new BigInt64Array(buf) }
    : { dtype: 'float32', dims: t.shape, data: new Float32Array(buf) };
}

export function loadReference(name: string): Reference {
  const json = JSON.parse(readFileSync(fixturePath(name), 'utf8')) as {
    inputs: Record<string, RefTensorJson>;
    outputs: Record<string, RefTensorJson>;
    tensors: (RefTensorJson & { module: string; kind: string; tensor: string })[];
  };
  const map = (o: Record<string, RefTensorJson>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
  return {
    inputs: map(json.inputs),
    outputs: map(json.outputs),
    tensors: json.tensors.map((t) => ({ module: t.module, kind: t.kind, tensor: t.tensor, value: decode(t) })),
  };
}

export function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}
