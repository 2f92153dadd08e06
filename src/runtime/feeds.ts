// Binding dataset batches to model inputs: by name when the data names its arrays like the model's inputs
// (NPZ calibration sets), otherwise an image batch goes to the model's single input.

import { dataError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { InputSpec } from './session.js';

export function bindFeeds(
  inputs: readonly InputSpec[],
  data: ReadonlyMap<string, HostTensor>,
): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  const byName = inputs.every((i) => data.has(i.name));
  if (byName) {
    for (const i of inputs) feeds[i.name] = data.get(i.name)!;
    return feeds;
  }
  const image = data.get('image');
  if (inputs.length === 1 && (image !== undefined || data.size === 1)) {
    feeds[inputs[0]!.name] = image ?? [...data.values()][0]!;
    return feeds;
  }
  throw dataError(
    `cannot match the data (${[...data.keys()].join(', ')}) to the model inputs (${inputs.map((i) => i.name).join(', ')})`,
    'name the arrays of an .npz after the model inputs',
  );
}
