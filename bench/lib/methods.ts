// Running a registered PTQ method on a model already in memory, timed (wall and process CPU).

import { getMethod, methodNames, type MethodResult } from '../../src/methods/registry.js';
import type { Model } from '../../src/onnx/ir.js';
import type { Feeds } from '../../src/runtime/index.js';
import { timeOnce } from './timing.js';

export const hasMethod = (name: string) => methodNames().includes(name);

/** The calibration set as one batch (what the search-based observers and RepQ-ViT expect). */
export const oneBatch = (feeds: Feeds) =>
  async function* () {
    yield feeds;
  };

export interface TimedQuantization {
  result: MethodResult;
  wall: number;
  cpu: number;
}

export async function quantizeTimed(
  model: Model,
  method: string,
  calib: Feeds,
  bits: { wBits: number; aBits: number },
  threads: number,
): Promise<TimedQuantization> {
  let result: MethodResult | undefined;
  const t = await timeOnce(async () => {
    result = await getMethod(method)(model, oneBatch(calib), { ...bits, threads });
  });
  return { result: result!, ...t };
}
