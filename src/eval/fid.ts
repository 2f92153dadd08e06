// Fréchet Inception Distance between two Gaussian feature statistics (Heusel et al. 2017):
//   FID = |μ1 − μ2|² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½)
// with the trace of the matrix square root taken from symmetric eigendecompositions (see sqrtm.ts).

import { dataError } from '../errors.js';
import type { GaussianStats } from './feature-stats.js';
import { traceSqrtProduct } from './sqrtm.js';

export interface FidParts {
  fid: number;
  /** |μ1 − μ2|² */
  meanTerm: number;
  /** Tr(Σ1) + Tr(Σ2) − 2 Tr((Σ1 Σ2)^½) */
  covTerm: number;
}

export function fidParts(a: GaussianStats, b: GaussianStats): FidParts {
  if (a.dim !== b.dim)
    throw dataError(
      `feature sizes differ: ${a.dim} vs ${b.dim}`,
      'use the same feature network and output for both sets',
    );
  const n = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (a.mu[i]! - b.mu[i]!) ** 2;
  let tr = 0;
  for (let i = 0; i < n; i++) tr += a.sigma[i * n + i]! + b.sigma[i * n + i]!;
  const covTerm = tr - 2 * traceSqrtProduct(a.sigma, b.sigma, n);
  return { fid: meanTerm + covTerm, meanTerm, covTerm };
}

export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  return fidParts(a, b).fid;
}
