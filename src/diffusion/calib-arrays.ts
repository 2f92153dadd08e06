// Calibration arrays for a UNet from an NPZ: named after the model's inputs (what `calib-set` writes), or `xs`/`ts`
// as in Q-Diffusion's sample_data dicts (the key names). xs may be [N, C, H, W] or stacked per step
// [S, N, C, H, W] (ts then [S, N]); both are flattened step-major, as get_train_samples concatenates them. x becomes
// float32 and t the model's time-step dtype (the official DDIM data hold float time steps with integer values).

import { dataError } from '../errors.js';
import { hostSize, type HostTensor } from '../util/host-tensor.js';
import type { UNetIO } from './unet-io.js';

const HINT = 'name the arrays after the UNet inputs (as `quantlens calib-set` writes) or xs and ts';

function toFloat32(t: HostTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof BigInt64Array) return Float32Array.from(t.data, Number);
  return Float32Array.from(t.data as ArrayLike<number>);
}

function castTime(t: HostTensor, dtype: UNetIO['tDtype'], name: string): HostTensor['data'] {
  if (t.dtype === dtype) return t.data;
  const values = t.data instanceof BigInt64Array ? Array.from(t.data, Number) : Array.from(t.data as ArrayLike<number>);
  if (dtype === 'float32') return Float32Array.from(values);
  const bad = values.findIndex((v) => !Number.isInteger(v));
  if (bad >= 0)
    throw dataError(
      `array ${name}: time step ${values[bad]} at index ${bad} is not an integer; the UNet takes ${dtype}`,
    );
  return dtype === 'int64' ? BigInt64Array.from(values, (v) => BigInt(v)) : Int32Array.from(values);
}

/**
 * `x` and `t` arrays bound to the UNet's inputs (plus `step` when present and of the same length); a data error
 * names what is missing or mis-shaped.
 */
export function unetCalibArrays(
  arrays: ReadonlyMap<string, HostTensor>,
  io: UNetIO,
  where: string,
): Map<string, HostTensor> {
  const named = arrays.has(io.x) && arrays.has(io.t);
  const [xName, tName] = named ? [io.x, io.t] : ['xs', 'ts'];
  const x = arrays.get(xName);
  const t = arrays.get(tName);
  if (x === undefined || t === undefined)
    throw dataError(
      `${where} holds ${[...arrays.keys()].join(', ') || 'no arrays'}; the UNet needs ${io.x} and ${io.t} (or xs and ts)`,
      HINT,
    );
  const sample = io.shape.join(', ');
  let dims = x.dims;
  if (dims.length === 5) dims = [dims[0]! * dims[1]!, ...dims.slice(2)];
  if (dims.length !== 4 || dims.slice(1).join(', ') !== sample)
    throw dataError(
      `array ${xName} in ${where} is [${x.dims.join(', ')}]; expected [N, ${sample}] or [S, N, ${sample}]`,
    );
  const n = dims[0]!;
  if (hostSize(t.dims) !== n || t.dims.length > 2)
    throw dataError(`array ${tName} in ${where} is [${t.dims.join(', ')}]; expected one time step per x (${n})`);
  if (t.dtype === 'bool') throw dataError(`array ${tName} in ${where} is bool; time steps are numbers`);
  const out = new Map<string, HostTensor>([
    [io.x, { dtype: 'float32', dims, data: toFloat32(x) }],
    [io.t, { dtype: io.tDtype, dims: [n], data: castTime(t, io.tDtype, tName) }],
  ]);
  const step = arrays.get('step');
  if (step !== undefined && hostSize(step.dims) === n) out.set('step', { ...step, dims: [n] });
  return out;
}
