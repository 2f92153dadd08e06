// RepQ-ViT (repq-vit.md): post-LayerNorm pairs, sequential calibration, scale reparameterization, post-Softmax
// log-√2 in its bit-shift form, and the pipeline that runs them. Named exports only.

export { findPostLnPairs, type PostLnPair, type PostLnConsumer, type SkippedNorm } from './post-ln-pairs.js';
export {
  POST_LN_MODES,
  POST_SOFTMAX_MODES,
  TAG_POST_LN,
  TAG_POST_SOFTMAX,
  checkModes,
  planRepq,
  repqRecipe,
  type PostLnMode,
  type PostSoftmaxMode,
  type RepqSettings,
} from './targets.js';
export { calibrateSequential, joinBatches, type SequentialOptions, type SequentialStats } from './sequential.js';
export { reparameterize, reparamFactors, type ReparamFactors, type ReparamRecord } from './reparam.js';
export { emitLogSqrt2Shift, shiftFormEmitter, shiftFormRecord, type ShiftFormRecord } from './log-softmax.js';
export { runRepqVit, type RepqCalibration, type RepqOptions, type RepqResult } from './pipeline.js';
export { repqSettings, runRepqMethod } from './method.js';
