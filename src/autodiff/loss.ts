// Scalar losses built in-graph, after shape inference: a weighted sum of terms, each a mean squared error
// against a target (a new graph input fed with the FP output), or the sum or mean of a value (regularizers the
// caller built in the graph, e.g. AdaRound's). Imports the emitter and dims helpers; not the runtime.

import { usageError } from '../errors.js';
import { dtypeCode } from '../onnx/dtype.js';
import { names } from '../onnx/naming.js';
import { range } from './dims.js';
import type { Emitter } from './emitter.js';

export type LossTerm =
  | {
      /** value compared with its target */
      mse: string;
      /** existing value or graph input holding the target; default: a new graph input `<mse>__target` */
      target?: string;
      /**
       * Sum the squared error over this axis and average over the others (BRECQ/Q-Diffusion's lp_loss sums over
       * dim 1). Default: the mean over every element.
       */
      sumAxis?: number;
      weight?: number;
    }
  | { sum: string; weight?: number }
  | { mean: string; weight?: number };

export interface BuiltLoss {
  loss: string;
  /** per MSE term: its value -> the name of the target to feed */
  targets: Record<string, string>;
}

const termValue = (t: LossTerm) => ('mse' in t ? t.mse : 'sum' in t ? t.sum : t.mean);

function term(e: Emitter, t: LossTerm, targets: Record<string, string>, wide: boolean): string {
  const value = termValue(t);
  const dims = e.shape(value);
  const dt = e.dtype(value);
  const all = range(dims.length);
  const widen = (v: string) => (wide && dt !== 'float64' ? e.op('Cast', [v], { to: dtypeCode('float64') }) : v);
  if ('sum' in t) return e.reduce('ReduceSum', widen(value), all, false);
  if ('mean' in t) return e.reduce('ReduceMean', widen(value), all, false);
  let target = t.target;
  if (target === undefined) {
    target = e.builder.namer.fresh(names.target(value));
    e.graph.inputs.push({ name: target, type: { dtype: dt, shape: [...dims] } });
    e.known.set(target, { dtype: dt, dims: [...dims] });
  }
  targets[value] = target;
  const diff = e.op('Sub', [widen(value), widen(target)]);
  const sq = e.mul(diff, diff);
  if (t.sumAxis === undefined) return e.reduce('ReduceMean', sq, all, false);
  const axis = t.sumAxis < 0 ? t.sumAxis + dims.length : t.sumAxis;
  if (axis < 0 || axis >= dims.length) throw usageError(`loss: sumAxis ${t.sumAxis} is out of range for ${value}`);
  return e.reduce('ReduceMean', e.reduce('ReduceSum', sq, [axis], false), range(dims.length - 1), false);
}

/**
 * Adds Σ weight_i · term_i to the graph; returns the scalar loss value and the targets to feed. `float64` computes
 * the terms in float64 (float32 values are cast first), which gradient checks use for their central differences.
 */
export function addLoss(e: Emitter, terms: readonly LossTerm[], float64 = false): BuiltLoss {
  if (terms.length === 0) throw usageError('loss: no terms');
  e.at('loss');
  const targets: Record<string, string> = {};
  const parts = terms.map((t) => {
    const v = term(e, t, targets, float64);
    const w = t.weight ?? 1;
    return w === 1 ? v : e.mul(v, e.scalar(w, float64 ? 'float64' : e.dtype(termValue(t))));
  });
  const name = e.builder.namer.fresh(names.loss());
  const loss = parts.length === 1 ? e.op('Identity', parts, {}, name) : e.op('Sum', parts, {}, name);
  return { loss, targets };
}
