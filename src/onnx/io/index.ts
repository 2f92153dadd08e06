// The protobuf boundary: nothing outside onnx/io sees onnx-buf or @bufbuild types.
export { parseModel, parseTensor, readModel, type ReadOptions } from './read.js';
export { serializeModel, writeModel, type WriteOptions } from './write.js';
export { DEFAULT_LIMITS, type ReadLimits } from './limits.js';
