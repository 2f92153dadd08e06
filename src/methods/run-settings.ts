// The run settings a method runner passes on to its pipeline unchanged. Its own module, so that method files need
// not import the registry that imports them.

import type { MethodRequest } from './registry.js';

/** The run settings of a request that a pipeline takes as they are (only those that are set). */
export function runSettings(
  req: MethodRequest,
): Pick<MethodRequest, 'device' | 'threads' | 'onProgress' | 'totalBatches' | 'adjustRecipe'> {
  return {
    ...(req.device === undefined ? {} : { device: req.device }),
    ...(req.threads === undefined ? {} : { threads: req.threads }),
    ...(req.onProgress === undefined ? {} : { onProgress: req.onProgress }),
    ...(req.totalBatches === undefined ? {} : { totalBatches: req.totalBatches }),
    ...(req.adjustRecipe === undefined ? {} : { adjustRecipe: req.adjustRecipe }),
  };
}
