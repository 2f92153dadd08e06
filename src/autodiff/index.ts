// autodiff: reverse-mode differentiation of an ONNX (sub)graph into one ONNX graph that computes a scalar loss and
// its gradients in a single ORT run (block reconstruction: AdaRound, BRECQ, LSQ), the gradient checker every rule
// is tested with, and Adam for the parameter updates in TypeScript. Rules live in grads/<OpType>.ts.
// Must not import methods/, analysis/, report/ or cli/; only grad-check.ts and runner.ts use the runtime.

export { buildGradientGraph, type GradientGraph } from './gradient-graph.js';
export { prepareForward, type GradientOptions, type Forward } from './prepare.js';
export type { LossTerm } from './loss.js';
export { GradientRunner, type GradientStep } from './runner.js';
export { checkGradients, type GradCheckOptions, type GradCheckEntry } from './grad-check.js';
export { Adam, type AdamOptions } from './adam.js';
export { differentiableOps } from './registry.js';
export type { OpGrad } from './rule.js';
