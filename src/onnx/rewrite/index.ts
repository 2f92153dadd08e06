// Graph rewrites over the IR: pattern matching, dead-code elimination, constant folding, LayerNorm finding and
// conversion. Rewrites support default-domain opsets 13 to 21. Nothing here imports the runtime or protobuf.

export { constantTensor, constantNodeTensor, fixedInitializer, isConstantValue } from './const-value.js';
export {
  matchAll,
  matchAt,
  isSelfContained,
  type Match,
  type MatchOptions,
  type NodePattern,
  type InputPattern,
  type ValuePattern,
} from './pattern.js';
export { eliminateDeadCode, outerReferences, pruneValues, type DceResult } from './dce.js';
export { foldConstants, type FoldOptions, type FoldResult } from './constant-fold.js';
export { findLayerNorms, trailingAxis, type LayerNorm } from './layernorm.js';
export { fuseLayerNorms, decomposeLayerNorms, type LayerNormRewriteResult, type Skipped } from './layernorm-rewrite.js';
export { raiseDefaultOpset } from './opset.js';
