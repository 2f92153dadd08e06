export { Session, modelInputs, checkFeed, type InputSpec, type SessionOptions } from './session.js';
export { Prober, probe, type Feeds } from './probe.js';
export { onnxruntimeVersion, type Device } from './ort.js';
export { bindFeeds } from './feeds.js';
