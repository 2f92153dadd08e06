// A tensor in host memory: the plain currency between data/, runtime/ and everything that computes statistics.
// No ORT or protobuf types here.

export type HostDType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type HostData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export interface HostTensor {
  dtype: HostDType;
  dims: number[];
  data: HostData;
}

export function hostTensor(data: Float32Array, dims: number[]): HostTensor {
  return { dtype: 'float32', dims, data };
}

/** A float32 scalar (a feed such as a learned step size or a schedule value). */
export function scalarTensor(v: number): HostTensor {
  return { dtype: 'float32', dims: [], data: Float32Array.of(v) };
}

export function hostSize(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
