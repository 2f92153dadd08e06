// Inception Score (Salimans et al. 2016) from a classifier's logits: IS = exp(E_x KL(p(y|x) ‖ p(y))), computed on
// `splits` consecutive chunks (the original code's and torch-fidelity's split rule, default 10) and reported as
// the mean and (population) standard deviation over the chunks. Softmax in float64, via log-softmax so that
// confident predictions do not underflow into log(0).

import { dataError, usageError } from '../errors.js';

export interface InceptionScore {
  mean: number;
  std: number;
  splits: number;
}

/** Log-probabilities of one row of logits. */
function logSoftmax(logits: ArrayLike<number>, offset: number, k: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, logits[offset + j]!);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(logits[offset + j]! - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < k; j++) out[j] = logits[offset + j]! - lse;
}

/** IS of `n` rows of `classes` logits, stored back to back. */
export function inceptionScore(logits: ArrayLike<number>, classes: number, splits = 10): InceptionScore {
  const n = Math.floor(logits.length / classes);
  if (classes < 1 || n * classes !== logits.length)
    throw dataError(`${logits.length} logits do not form rows of ${classes}`);
  if (!Number.isInteger(splits) || splits < 1) throw usageError(`--splits must be a positive integer, got ${splits}`);
  if (n < splits)
    throw usageError(`the Inception Score over ${splits} splits needs at least ${splits} samples, got ${n}`);
  for (let i = 0; i < logits.length; i++)
    if (!Number.isFinite(logits[i]!))
      throw dataError(`logit ${i} is ${logits[i]}`, 'the classifier produced NaN or infinity');
  const scores: number[] = [];
  const lp = new Float64Array(n * classes);
  const row = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    logSoftmax(logits, i * classes, classes, row);
    lp.set(row, i * classes);
  }
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits);
    const hi = Math.floor(((s + 1) * n) / splits);
    const py = new Float64Array(classes);
    for (let i = lo; i < hi; i++) for (let j = 0; j < classes; j++) py[j] = py[j]! + Math.exp(lp[i * classes + j]!);
    for (let j = 0; j < classes; j++) py[j] = py[j]! / (hi - lo);
    let kl = 0;
    for (let i = lo; i < hi; i++)
      for (let j = 0; j < classes; j++) {
        const l = lp[i * classes + j]!;
        const p = Math.exp(l);
        if (p > 0) kl += p * (l - Math.log(py[j]!));
      }
    scores.push(Math.exp(kl / (hi - lo)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, splits };
}
