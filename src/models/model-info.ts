// What travels with a model besides its graph: preprocessing, labels, task and (for diffusion) the scheduler.
// Stored as JSON under the `quantlens` key of metadata_props in every model quantlens writes, so evaluating an
// output needs no flags again.

import type { Model } from '../onnx/ir.js';
import { modelError } from '../errors.js';
import type { Preprocess } from '../data/preprocess.js';

export type Task = 'classification' | 'diffusion' | 'features';

/** Preprocessing as recorded with a model: the data module's own description, minus resize overrides. */
export type PreprocessInfo = Omit<Preprocess, 'resizeTo'>;

export interface SchedulerInfo {
  type: string;
  betaSchedule: string;
  betaStart: number;
  betaEnd: number;
  trainSteps: number;
}

export interface ModelInfo {
  task?: Task;
  dataset?: string;
  preprocess?: PreprocessInfo;
  labels?: string[];
  scheduler?: SchedulerInfo;
}

export const METADATA_KEY = 'quantlens';

export function readModelInfo(model: Model): ModelInfo {
  const text = model.metadata.get(METADATA_KEY);
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as ModelInfo;
  } catch {
    throw modelError(`metadata_props "${METADATA_KEY}" is not valid JSON`);
  }
}

export function writeModelInfo(model: Model, info: ModelInfo): void {
  model.metadata.set(METADATA_KEY, JSON.stringify(info));
}

/** Later sources win field by field (metadata < manifest < flags). */
export function mergeModelInfo(...infos: (ModelInfo | undefined)[]): ModelInfo {
  const out: ModelInfo = {};
  for (const info of infos) {
    if (info === undefined) continue;
    for (const [k, v] of Object.entries(info)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
