// Reconstruction units for BRECQ/AdaRound and activation step-size learning (q-diffusion.md §3.3, §3.4, §4.3):
// finding them from graph structure, extracting each as a standalone model, caching their inputs and targets, and
// BRECQ + AdaRound weight reconstruction over them (any model findUnits handles: UNets, ViTs).
// Named exports only.

export { defaultPrimaryInputs, isWeightedLayer, type SplitJoin } from './graph-facts.js';
export { type Region, type RejectedRegion } from './regions.js';
export { type LabelSource } from './labels.js';
export { findUnits, type FindUnitsOptions, type ReconstructionUnit, type UnitList, type UnitOrder } from './units.js';
export { extractUnit, restrictPlan, typesFromTensors, type ExtractOptions } from './extract.js';
export {
  DEFAULT_CAPTURE_LIMIT,
  captureBytes,
  captureUnit,
  captureUnits,
  type CaptureOptions,
  type CaptureResult,
  type TensorCache,
  type UnitCapture,
} from './capture.js';
export { captureGroups, upstreamUnits } from './schedule.js';
export { BatchSampler, evaluationBatches, gather } from './minibatch.js';
export {
  GAMMA,
  ZETA,
  buildAdaRoundGraph,
  hardRounding,
  initialAlpha,
  rectifiedSigmoid,
  roundedWeight,
  softWeight,
  type AdaRoundGraph,
  type RoundedWeight,
} from './adaround-graph.js';
export {
  ADAROUND_DEFAULTS,
  adaroundUnit,
  betaAt,
  type AdaRoundOptions,
  type AdaRoundResult,
  type AdaRoundStats,
} from './adaround.js';
export { reconstructWeights, type BrecqOptions, type BrecqResult, type UnitStats } from './brecq.js';
