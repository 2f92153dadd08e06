// The public API of quantlens: named exports only. Each layer is a namespace (so names never clash across
// layers), and the entry points most programs need are also exported by name.

export * as onnx from './onnx/index.js';
export * as runtime from './runtime/index.js';
export * as data from './data/index.js';
export * as analysis from './analysis/index.js';
export * as report from './report/index.js';
export * as diffusion from './diffusion/index.js';
export * as autodiff from './autodiff/index.js';

export { QuantlensError, isQuantlensError, type ErrorKind } from './errors.js';
export { quantlensVersion } from './version.js';
export { readModel, writeModel, parseModel, serializeModel } from './onnx/io/index.js';
export { summarizeModel } from './onnx/summary.js';
export { Session, Prober, probe, onnxruntimeVersion } from './runtime/index.js';
export { openDataset, calibrationIndices } from './data/index.js';
export { defaultRecipe, applyRecipeDocument, loadRecipeFile, type Recipe } from './quant/recipe.js';
export { planQuantization, type QuantPlan, type QuantTarget } from './quant/plan.js';
export { applyFakeQuant } from './quant/fake-quant.js';
export { exportQdq } from './quant/qdq-export.js';
export { createObserver } from './quant/observers/index.js';
export type { QuantParams, UniformParams, LogParams } from './quant/qparams.js';
export {
  getMethod,
  methodNames,
  methodSummary,
  registerMethod,
  type MethodRequest,
  type MethodResult,
} from './methods/registry.js';
export * as qDiffusion from './methods/q-diffusion/index.js';
export * as reconstruction from './methods/reconstruction/index.js';
export { calibrateWeights, calibrateActivations } from './methods/calibrate.js';
export { sweepClassifier } from './methods/sweep.js';
export { evaluateClassification } from './eval/classification.js';
export { evaluateAgreement } from './eval/agreement.js';
export { analyzeModel } from './analysis/index.js';
export { writeReport } from './report/index.js';
export { loadManifest, resolveModelRef } from './models/manifest.js';
export { readModelInfo, writeModelInfo, type ModelInfo } from './models/model-info.js';
