// NPY (numpy's .npy format, versions 1 to 3): magic "\x93NUMPY", version, header length (2 bytes in v1, 4 in
// v2/v3), a Python dict literal {'descr', 'fortran_order', 'shape'}, then the raw data. Only little-endian
// C-order arrays of the dtypes HostTensor can hold; anything else is refused by name rather than misread.

import { dataError, usageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hostSize, type HostDType, type HostData, type HostTensor } from '../util/host-tensor.js';
import { readBytes } from './read-file.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DTypeInfo {
  dtype: HostDType;
  size: number;
  make: (buffer: ArrayBuffer) => HostData;
}

// Keyed by kind+size; the byte-order prefix is checked separately.
const DTYPES: Record<string, DTypeInfo> = {
  f4: { dtype: 'float32', size: 4, make: (b) => new Float32Array(b) },
  f8: { dtype: 'float64', size: 8, make: (b) => new Float64Array(b) },
  i8: { dtype: 'int64', size: 8, make: (b) => new BigInt64Array(b) },
  i4: { dtype: 'int32', size: 4, make: (b) => new Int32Array(b) },
  u1: { dtype: 'uint8', size: 1, make: (b) => new Uint8Array(b) },
  i1: { dtype: 'int8', size: 1, make: (b) => new Int8Array(b) },
  b1: { dtype: 'bool', size: 1, make: (b) => new Uint8Array(b) },
};

const DESCR: Record<HostDType, string> = {
  float32: '<f4',
  float64: '<f8',
  int64: '<i8',
  int32: '<i4',
  uint8: '|u1',
  int8: '|i1',
  bool: '|b1',
};

const SUPPORTED = '<f4 <f8 <i8 <i4 |u1 |i1 |b1';

function dtypeOf(descr: string, what: string): DTypeInfo {
  const order = descr[0];
  const info = DTYPES[descr.slice(1)];
  if (info === undefined || !['<', '|', '=', '>'].includes(order ?? ''))
    throw dataError(`${what} has dtype '${descr}', which is not supported`, `supported dtypes: ${SUPPORTED}`);
  if (order === '>' && info.size > 1)
    throw dataError(
      `${what} is big-endian ('${descr}')`,
      'save it little-endian: arr.astype(arr.dtype.newbyteorder("<"))',
    );
  return info;
}

function headerField(header: string, key: string, value: string): string | undefined {
  return new RegExp(`['"]${key}['"]\\s*:\\s*${value}`).exec(header)?.[1];
}

/** Parse NPY bytes; `what` names the file (or NPZ entry) in errors. */
export function parseNpy(bytes: Uint8Array, what: string): HostTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw dataError(`${what} is not an NPY file (bad magic)`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw dataError(`${what} is NPY version ${major}; versions 1 to 3 are supported`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw dataError(`${what} is truncated (header ends early)`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (bytes.length < dataStart) throw dataError(`${what} is truncated (header ends early)`);
  // v3 headers are UTF-8 (field names in structured dtypes); v1/v2 are latin-1, a subset for what we accept.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, dataStart));
  if (/['"]descr['"]\s*:\s*\[/.test(header))
    throw dataError(`${what} has a structured dtype`, 'save plain arrays, one per name (np.savez(path, x=..., y=...))');
  const descr = headerField(header, 'descr', `['"]([^'"]*)['"]`);
  const fortran = headerField(header, 'fortran_order', '(True|False)');
  const shapeText = headerField(header, 'shape', '\\(([^)]*)\\)');
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw dataError(`${what} has a malformed NPY header: ${header.trim()}`);
  if (fortran === 'True')
    throw dataError(
      `${what} is stored in Fortran order`,
      'save a C-order copy: np.save(path, np.ascontiguousarray(arr))',
    );
  const dims = shapeText
    .split(',')
    .map((s) => s.trim().replace(/L$/, '')) // Python 2 wrote longs as 3L
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) throw dataError(`${what} has a malformed shape in its NPY header: (${shapeText})`);
      return Number(s);
    });
  const info = dtypeOf(descr, what);
  const count = hostSize(dims);
  const byteLen = count * info.size;
  if (bytes.length - dataStart < byteLen)
    throw dataError(
      `${what} is truncated: shape (${dims.join(', ')}) needs ${byteLen} data bytes, found ${bytes.length - dataStart}`,
    );
  // Copy into a fresh buffer: the data offset need not be aligned for the typed array, and the copy stays valid
  // after the file's bytes are dropped.
  const buf = new ArrayBuffer(byteLen);
  new Uint8Array(buf).set(bytes.subarray(dataStart, dataStart + byteLen));
  return { dtype: info.dtype, dims, data: info.make(buf) };
}

export function readNpy(path: string): HostTensor {
  return parseNpy(readBytes(path), path);
}

/** NPY bytes for `t` (version 1, or 2 when the header does not fit in 64 KiB), header padded to 64 bytes. */
export function encodeNpy(t: HostTensor): Uint8Array {
  const count = hostSize(t.dims);
  if (t.data.length !== count)
    throw usageError(`tensor of shape [${t.dims.join(', ')}] needs ${count} elements, has ${t.data.length}`);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  let major = 1;
  let prefix = 10;
  if (header.length + 1 + prefix > 0xffff) {
    major = 2;
    prefix = 12;
  }
  header += ' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64) + '\n';
  const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set(MAGIC);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(data, prefix + header.length);
  return out;
}

export function writeNpy(path: string, t: HostTensor): void {
  writeFileAtomic(path, encodeNpy(t));
}
