// Making and reading initializer tensors. Canonical storage is little-endian raw bytes (see ir.ts); these helpers
// give typed views without copying where alignment allows.

import { dtypeBits, rawByteLength, type DType } from './dtype.js';
import type { Tensor } from './ir.js';
import { modelError, unsupportedError } from '../errors.js';

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function bytesOf(a: NumericArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const ARRAY_DTYPE: [new (...args: never[]) => NumericArray, DType][] = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [BigInt64Array, 'int64'],
  [BigUint64Array, 'uint64'],
];

/** A tensor holding a copy of `values` (typed array decides the dtype unless given, e.g. uint16 as float16). */
export function makeTensor(name: string, values: NumericArray, dims: number[], dtype?: DType): Tensor {
  const inferred = ARRAY_DTYPE.find(([ctor]) => values instanceof ctor)?.[1];
  const d = dtype ?? inferred;
  if (d === undefined) throw new Error('unsupported array type');
  if (elementCount(dims) !== values.length && dtypeBits(d) >= 8)
    throw new Error(`tensor ${name}: ${values.length} values do not fill dims [${dims.join(', ')}]`);
  return { name, dtype: d, dims: [...dims], data: bytesOf(values).slice() };
}

export function scalarInt64(name: string, value: number | bigint): Tensor {
  return makeTensor(name, BigInt64Array.of(BigInt(value)), []);
}

export function int64Tensor(name: string, values: readonly (number | bigint)[]): Tensor {
  return makeTensor(name, BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
}

function aligned(data: Uint8Array, bytesPer: number): Uint8Array {
  // Not data.slice(): on a Node Buffer that is a view at the same (misaligned) offset, not a copy.
  return data.byteOffset % bytesPer === 0 ? data : new Uint8Array(data);
}

function checkLength(t: Tensor): void {
  const want = rawByteLength(t.dtype, elementCount(t.dims));
  if (t.data.byteLength !== want)
    throw modelError(
      `tensor ${t.name}: ${t.data.byteLength} bytes of data, ${want} expected for ${t.dtype}[${t.dims.join(', ')}]`,
    );
}

/** A typed view (or aligned copy) of a tensor's data in its own dtype. */
export function typedData(t: Tensor): NumericArray {
  checkLength(t);
  const n = elementCount(t.dims);
  const view = <T>(ctor: { new (b: ArrayBufferLike, o: number, l: number): T; BYTES_PER_ELEMENT: number }): T => {
    const d = aligned(t.data, ctor.BYTES_PER_ELEMENT);
    return new ctor(d.buffer, d.byteOffset, n);
  };
  switch (t.dtype) {
    case 'float32':
      return view(Float32Array);
    case 'float64':
      return view(Float64Array);
    case 'int8':
      return view(Int8Array);
    case 'uint8':
    case 'bool':
      return view(Uint8Array);
    case 'int16':
      return view(Int16Array);
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return view(Uint16Array);
    case 'int32':
      return view(Int32Array);
    case 'uint32':
      return view(Uint32Array);
    case 'int64':
      return view(BigInt64Array);
    case 'uint64':
      return view(BigUint64Array);
    default:
      throw unsupportedError(`tensor ${t.name}: no typed view for ${t.dtype}`);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Tensor values as float32 (converting from any real numeric dtype). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.dtype === 'float32') {
    const d = typedData(t) as Float32Array;
    return d.buffer === t.data.buffer && d.byteOffset === t.data.byteOffset ? new Float32Array(d) : d;
  }
  const src = typedData(t);
  const out = new Float32Array(src.length);
  if (t.dtype === 'float16') for (let i = 0; i < out.length; i++) out[i] = halfToFloat(src[i] as number);
  else if (t.dtype === 'bfloat16') {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    for (let i = 0; i < out.length; i++) {
      u[0] = (src[i] as number) << 16;
      out[i] = f[0]!;
    }
  } else for (let i = 0; i < out.length; i++) out[i] = Number(src[i]);
  return out;
}

/** Integer tensor values as JS numbers (shape constants, axes). */
export function toNumbers(t: Tensor): number[] {
  return Array.from(typedData(t) as ArrayLike<number | bigint>, (v) => Number(v));
}
