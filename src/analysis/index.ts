// Public API of analysis/: why a model is hard to quantize, as plain data (types.ts) that report/ renders.
// Imports the runtime, the quantization core, methods/calibrate and diffusion/ (for error accumulation); nothing
// here prints or writes files.

export { analyzeModel, type AnalyzeOptions, type CalibBatch } from './analyze.js';
export { runSensitivity, type LabelledBatch, type SensitivityInput } from './sensitivity.js';
export { buildSwitchable, switchFeeds, type Switchable, type SwitchableLayer } from './switchable.js';
export { measureErrorAccumulation, type ErrorAccumulationOptions } from './error-accumulation.js';
export { planSteps, stepBatches, countStepBatches, STEP_ARRAY, type StepPlan } from './step-data.js';
export { quantizableTensors, layerNormSites, softmaxSites, shortcutSites } from './sites.js';
export {
  TensorStatsAccumulator,
  PERCENTILES,
  OUTLIER_SIGMAS,
  DEFAULT_STATS,
  type StatsConfig,
} from './tensor-stats.js';
export { variationScore, median } from './channel-ranges.js';
export * from './types.js';
