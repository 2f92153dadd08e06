// Observer registry: one place that maps a method name from the CLI, a recipe or the sidecar to an observer.
// Re-exports the observer classes and types for graph passes and methods. Imports the observers only.

import { usageError } from '../../errors.js';
import { EntropyObserver } from './entropy.js';
import { LogQuantileObserver } from './log-quantile.js';
import { MinMaxObserver } from './minmax.js';
import { MseQuantileObserver } from './mse-quantile.js';
import { MseRangeObserver } from './mse-range.js';
import { PercentileObserver } from './percentile.js';
import type { Observer, ObserverName, ObserverOptions } from './types.js';

export type { Observer, ObserverName, ObserverOptions } from './types.js';
export { EntropyObserver, klThresholdBins } from './entropy.js';
export { LogQuantileObserver, searchLogScale } from './log-quantile.js';
export { MinMaxObserver } from './minmax.js';
export { MseQuantileObserver, searchQuantileRange } from './mse-quantile.js';
export { MseRangeObserver, searchShrunkRange, MSE_RANGE_POWER, MSE_RANGE_STEPS } from './mse-range.js';
export { PercentileObserver } from './percentile.js';
export { MIN_SCALE, REPQ_CANDIDATES } from './common.js';

export const OBSERVER_NAMES: readonly ObserverName[] = [
  'minmax',
  'percentile',
  'mse-quantile',
  'mse-range',
  'entropy',
  'log2',
  'logsqrt2',
];

export function isObserverName(name: string): name is ObserverName {
  return (OBSERVER_NAMES as readonly string[]).includes(name);
}

/** A fresh observer; throws a usage error for an unknown name or an option that observer does not support. */
export function createObserver(name: ObserverName, opts: ObserverOptions): Observer {
  switch (name) {
    case 'minmax':
      return new MinMaxObserver(opts);
    case 'percentile':
      return new PercentileObserver(opts);
    case 'mse-quantile':
      return new MseQuantileObserver(opts);
    case 'mse-range':
      return new MseRangeObserver(opts);
    case 'entropy':
      return new EntropyObserver(opts);
    case 'log2':
    case 'logsqrt2':
      return new LogQuantileObserver(name, opts);
    default:
      throw usageError(`unknown observer '${String(name)}'`, `choose one of: ${OBSERVER_NAMES.join(', ')}`);
  }
}
