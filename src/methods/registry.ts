// Every PTQ method by name, with one signature, so the CLI, sweeps and benchmarks run any of them the same way.
// A method takes the FP model, bit widths, method options and calibration feeds, and returns the calibrated plan,
// the simulated model and the deployable export.

import type { Model } from '../onnx/ir.js';
import type { Feeds, SessionOptions } from '../runtime/index.js';
import { usageError } from '../errors.js';
import type { Recipe } from '../quant/recipe.js';
import { LINEAR_METHODS, recipeFor, runPtq, type LinearMethod, type PtqResult } from './ptq.js';
import { runRepqMethod } from './repq-vit/method.js';
import { QDIFFUSION_SUMMARY, runQDiffusionMethod } from './q-diffusion/method.js';

export interface MethodRequest extends SessionOptions {
  wBits: number;
  aBits: number;
  /** method-specific switches (e.g. RepQ-ViT's postLn / postSoftmax ablations) */
  options?: Record<string, string | boolean>;
  /** applied on top of the method's own recipe */
  adjustRecipe?: (r: Recipe) => Recipe;
  onProgress?: (done: number, total: number) => void;
  totalBatches?: number;
}

export type MethodResult = PtqResult & { extra?: Record<string, unknown> };

export type MethodRunner = (
  model: Model,
  calibFeeds: () => AsyncIterable<Feeds>,
  req: MethodRequest,
) => Promise<MethodResult>;

const registry = new Map<string, MethodRunner>();
const summaries = new Map<string, string>();

/** `summary`: one line on what the method does (and does not do yet), for help texts and listings. */
export function registerMethod(name: string, run: MethodRunner, summary?: string): void {
  registry.set(name, run);
  if (summary !== undefined) summaries.set(name, summary);
}

export function methodSummary(name: string): string | undefined {
  return summaries.get(name);
}

export function methodNames(): string[] {
  return [...registry.keys()];
}

export function getMethod(name: string): MethodRunner {
  const m = registry.get(name);
  if (m === undefined) throw usageError(`unknown method ${name}`, `methods: ${methodNames().join(', ')}`);
  return m;
}

for (const name of LINEAR_METHODS) {
  registerMethod(name, (model, calibFeeds, req) => {
    const base = recipeFor(name as LinearMethod, req.wBits, req.aBits);
    return runPtq(model, req.adjustRecipe?.(base) ?? base, calibFeeds, req);
  });
}

registerMethod('repq-vit', runRepqMethod);
registerMethod('q-diffusion', runQDiffusionMethod, QDIFFUSION_SUMMARY);
