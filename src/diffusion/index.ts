// Public API of diffusion/: noise schedules, DDIM/DDPM sampling over an ONNX noise-prediction UNet, resumable
// runs, time step-aware calibration sets and FID/IS evaluation. Imports runtime/, data/ (NPZ, cache folder) and
// eval/ (metrics); nothing here prints, and files are written only through util/atomic-write.

export {
  DEFAULT_SCHEDULE,
  alphasCumprod,
  betas,
  linspace,
  parseBetaSchedule,
  resolveSchedule,
  type BetaSchedule,
  type ScheduleConfig,
} from './schedule.js';
export { ddimTimesteps, parseSkip, samplingPairs, type Skip, type StepPair } from './timesteps.js';
export { fillNormal, philox4x32, seededNoise, type NoiseSlot, type NoiseSource } from './noise.js';
export { unetIO, type UNetIO } from './unet-io.js';
export {
  DiffusionSampler,
  checkEta,
  parseSampler,
  type BatchOptions,
  type SamplerConfig,
  type SamplerKind,
  type SamplerOptions,
  type StepCallback,
  type StepEvent,
} from './sampler.js';
export { BatchCheckpoint, defaultCheckpointDir, type RunMeta } from './checkpoint.js';
export { runMeta, sampleRun, type RunBatch, type RunOptions } from './run.js';
export {
  buildCalibrationSet,
  parseSelect,
  selectSteps,
  type CalibSelect,
  type CalibSet,
  type CalibSetOptions,
  type StepSelection,
} from './calib-set.js';
export { unetCalibArrays } from './calib-arrays.js';
export { imageGrid, toUint8Images, type Uint8Images } from './images.js';
export { evaluateDiffusion, type DiffusionEvalOptions, type DiffusionEvalResult } from './evaluate.js';
