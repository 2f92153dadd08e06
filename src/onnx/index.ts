export * from './ir.js';
export * from './dtype.js';
export * from './tensor.js';
export * from './builder.js';
export { Namer, names } from './naming.js';
export * from './io/index.js';
export { summarizeModel, type ModelSummary, type ValueSummary } from './summary.js';
export { cloneGraph, cloneModel } from './clone.js';
export * from './rewrite/index.js';
