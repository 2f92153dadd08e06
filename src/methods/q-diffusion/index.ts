// Q-Diffusion (q-diffusion.md): shortcut splitting as a graph rewrite and the method pipeline around it, with
// BRECQ + AdaRound and step-size learning as its Reconstruction hook (reconstruction.ts). Time step-aware
// calibration data come from src/diffusion.
// Named exports only.

export {
  channelsOf,
  splitShortcuts,
  unknownPartChannels,
  type ShortcutSplit,
  type SkippedSplit,
  type SplitOptions,
  type SplitPart,
} from './shortcut-split.js';
export {
  NO_RECONSTRUCTION_NOTE,
  QDIFF_DEFAULTS,
  TAG_SHORTCUT_SPLIT,
  qdiffusionRecipe,
  runQDiffusion,
  type QDiffusionOptions,
  type QDiffusionResult,
  type QDiffusionSettings,
  type Reconstruction,
  type ReconstructionContext,
} from './pipeline.js';
export { QDIFFUSION_SUMMARY, qdiffusionReconstruction, qdiffusionSettings, runQDiffusionMethod } from './method.js';
export {
  ACTIVATION_STEP_NOTE,
  BRECQ_RECONSTRUCTION,
  brecqReconstruction,
  type WeightReconstructionSettings,
} from './reconstruction.js';
