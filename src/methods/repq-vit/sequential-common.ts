// Pieces shared by the two ways of running sequential calibration (sequential.ts): options and statistics,
// depth levels over a graph with one marked node per quantizer, observing a probed tensor, and joining the
// calibration batches into the single batch the reference code calibrates on. Imports the IR, observers, runtime
// types only.

import type { Graph, Model } from '../../onnx/ir.js';
import { modelError } from '../../errors.js';
import type { FakeQuantOptions } from '../../quant/fake-quant.js';
import type { QuantTarget } from '../../quant/plan.js';
import type { Feeds, SessionOptions } from '../../runtime/index.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { checkFinite } from '../../data/finite.js';
import { observerFor } from '../calibrate.js';

export interface SequentialStats {
  strategy: 'switched' | 'sliced';
  /** depth levels: one ORT run each */
  levels: number;
  /** ORT session creations (switched: one for the whole model; sliced: one small graph slice per level) */
  sessions: number;
  /** activation quantizers calibrated */
  calibrated: number;
  /** building graphs and creating sessions */
  buildSeconds: number;
  runSeconds: number;
  observeSeconds: number;
}

export interface SequentialOptions extends SessionOptions, FakeQuantOptions {
  /** 'sliced' (default): each level runs only the nodes it adds; 'switched': one session, a full run per level */
  strategy?: 'switched' | 'sliced';
  onProgress?: (done: number, total: number) => void;
}

/**
 * One way of running the levels. `base` holds the weights and already calibrated quantizers applied; `pending`
 * (activation targets without parameters) are calibrated in place; `model` receives value_info for their ranks.
 */
export type SequentialRunner = (
  model: Model,
  base: Model,
  pending: QuantTarget[],
  batch: Feeds,
  opts: SequentialOptions,
) => Promise<SequentialStats>;

/**
 * Level of every value: the number of marked nodes (one per quantizer) on the deepest path above it, the marked
 * node's own output included. A quantizer whose input is at level L can be calibrated once every quantizer of
 * depth < L has parameters, and its output is at level L + 1.
 */
export function valueLevels(g: Graph, marked: ReadonlySet<string>): Map<string, number> {
  const level = new Map<string, number>();
  for (const n of g.nodes) {
    let l = 0;
    for (const i of n.inputs) l = Math.max(l, level.get(i) ?? 0);
    for (const o of n.outputs) level.set(o, marked.has(o) ? l + 1 : l);
  }
  return level;
}

/** Calibrates `t` on `v` (its first and only batch); records a per-channel activation's rank in `model`. */
export function observeTarget(model: Model, t: QuantTarget, v: HostTensor | undefined): void {
  if (v === undefined || v.dtype !== 'float32')
    throw modelError(`activation ${t.tensor} is ${v?.dtype ?? 'missing'}, not float32`);
  checkFinite(v, `activation ${t.tensor}`);
  const obs = observerFor(t);
  obs.observe(v.data as Float32Array, v.dims);
  t.params = obs.compute();
  // The fake-quant pass shapes per-channel parameters from the rank; exported graphs seldom carry value_info.
  if (t.axis !== null && model.graph.typeOf(t.tensor) === undefined)
    model.graph.valueInfo.set(t.tensor, { name: t.tensor, type: { dtype: 'float32', shape: v.dims.map(() => null) } });
}

/** One feed of all calibration batches joined along the batch axis (the official code's single batch of 32). */
export async function joinBatches(batches: AsyncIterable<Feeds> | Iterable<Feeds>): Promise<Feeds> {
  const parts = new Map<string, HostTensor[]>();
  for await (const f of batches) for (const [k, v] of Object.entries(f)) parts.set(k, [...(parts.get(k) ?? []), v]);
  const out: Feeds = {};
  for (const [k, list] of parts) {
    const first = list[0]!;
    if (list.length === 1) {
      out[k] = first;
      continue;
    }
    const ctor = first.data.constructor as new (n: number) => HostTensor['data'];
    const data = new ctor(list.reduce((n, t) => n + t.data.length, 0));
    let at = 0;
    for (const t of list) {
      (data as Float32Array).set(t.data as Float32Array, at);
      at += t.data.length;
    }
    const batch = list.reduce((n, t) => n + (t.dims[0] ?? 1), 0);
    out[k] = { dtype: first.dtype, dims: [batch, ...first.dims.slice(1)], data };
  }
  return out;
}
