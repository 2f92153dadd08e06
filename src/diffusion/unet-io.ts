// Which graph input is x_t and which is t, and which output is ε, read from the model itself: exporters name them
// freely (x/t, sample/timestep, ...) and give t as int64 or float, so nothing here assumes names.

import type { Model } from '../onnx/ir.js';
import { isTensorType } from '../onnx/ir.js';
import { modelError } from '../errors.js';
import { modelInputs } from '../runtime/index.js';

export interface UNetIO {
  /** the 4-D float input (x_t, [batch, C, H, W]) */
  x: string;
  /** the 1-D time-step input ([batch]) */
  t: string;
  tDtype: 'int64' | 'int32' | 'float32';
  /** the noise-prediction output */
  eps: string;
  /** [C, H, W] of one sample */
  shape: [number, number, number];
}

const HINT = 'a noise-prediction UNet takes x_t [batch, C, H, W] float32 and t [batch], and returns eps like x_t';

export function unetIO(model: Model): UNetIO {
  const inputs = modelInputs(model);
  if (inputs.length !== 2)
    throw modelError(
      `a diffusion UNet needs exactly 2 inputs (x_t and t); this model has ${inputs.length}: ${inputs.map((i) => i.name).join(', ')}`,
      HINT,
    );
  const x = inputs.find((i) => i.type?.shape?.length === 4);
  const t = inputs.find((i) => i.type?.shape?.length === 1);
  if (x === undefined || t === undefined)
    throw modelError('cannot tell x_t (4-D) from t (1-D) among the model inputs', HINT);
  if (x.type!.dtype !== 'float32')
    throw modelError(`input ${x.name} is ${x.type!.dtype}; only float32 x_t is supported`, HINT);
  const tDtype = t.type!.dtype;
  if (tDtype !== 'int64' && tDtype !== 'int32' && tDtype !== 'float32')
    throw modelError(`time-step input ${t.name} is ${tDtype}; expected int64, int32 or float32`, HINT);
  const dims = x.type!.shape!.slice(1);
  if (!dims.every((d): d is number => typeof d === 'number' && d > 0))
    throw modelError(
      `input ${x.name} has no fixed [C, H, W] (shape [${x.type!.shape!.map((d) => d ?? '?').join(', ')}])`,
      HINT,
    );
  const outs = model.graph.outputs;
  const eps = outs.find((o) => o.name === 'eps') ?? (outs.length === 1 ? outs[0] : undefined);
  if (eps === undefined)
    throw modelError(
      `cannot tell which output is eps among ${outs.map((o) => o.name).join(', ')}`,
      'name the output eps',
    );
  const es = isTensorType(eps.type) ? eps.type.shape : undefined;
  if (es !== undefined && es.length !== 4)
    throw modelError(`output ${eps.name} is ${es.length}-D; eps must be shaped like x_t`, HINT);
  return { x: x.name, t: t.name, tDtype, eps: eps.name, shape: dims as [number, number, number] };
}
