// Test helpers for the gradient rules: a one-node graph built in code, an MSE loss against random targets on each
// output, and checkGradients against central differences through ORT. Not part of the build.

import { expect } from 'vitest';
import { GraphBuilder, makeModel, type AttrValue } from '../onnx/builder.js';
import type { Model } from '../onnx/ir.js';
import { isTensorType } from '../onnx/ir.js';
import { mulberry32 } from '../data/calib.js';
import type { HostTensor } from '../util/host-tensor.js';
import { checkGradients, type GradCheckEntry, type GradCheckOptions } from './grad-check.js';
import { prepareForward, type GradientOptions } from './prepare.js';
import { buildGradientGraph } from './gradient-graph.js';
import { GradientRunner } from './runner.js';

export interface OpInput {
  dims: number[];
  /** fixed values (default: seeded uniform in `range`) */
  values?: number[];
  /** [lo, hi] of the random values (default [-1, 1]) */
  range?: [number, number];
  /** an int64 initializer (axes, indices, shapes) */
  int64?: (number | bigint)[];
  /** a bool initializer (Where's condition) */
  bool?: boolean[];
  /** a float constant rather than a differentiated input */
  constant?: boolean;
  /** '' for an absent optional input */
  absent?: boolean;
}

export interface OpCase {
  op: string;
  inputs: OpInput[];
  attrs?: Record<string, AttrValue>;
  outputs?: number;
  /** outputs that the loss reads (default all) */
  lossOn?: number[];
  dtype?: 'float32' | 'float64';
  opset?: number;
  seed?: number;
}

function floats(n: number, dtype: 'float32' | 'float64', r: () => number, [lo, hi]: [number, number]) {
  const out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export function randomFeeds(
  model: Model,
  dtype: 'float32' | 'float64',
  seed: number,
  skip: Record<string, HostTensor> = {},
) {
  const r = mulberry32(seed);
  const feeds: Record<string, HostTensor> = { ...skip };
  for (const i of model.graph.inputs) {
    if (i.name in feeds || !isTensorType(i.type)) continue;
    const dims = i.type.shape as number[];
    feeds[i.name] = {
      dtype,
      dims,
      data: floats(
        dims.reduce((p, d) => p * d, 1),
        dtype,
        r,
        [-1, 1],
      ),
    };
  }
  return feeds;
}

/** One `op` node over `inputs`; every non-constant float input is differentiated. */
export async function checkOp(c: OpCase, check: GradCheckOptions = {}): Promise<GradCheckEntry[]> {
  const dtype = c.dtype ?? 'float64';
  const r = mulberry32(c.seed ?? 7);
  const b = new GraphBuilder();
  const feeds: Record<string, HostTensor> = {};
  const wrt: string[] = [];
  const names = c.inputs.map((input, i) => {
    const name = `x${i}`;
    if (input.absent) return '';
    if (input.int64 !== undefined)
      return b.init(
        name,
        BigInt64Array.from(input.int64, (v) => BigInt(v)),
        input.dims,
      );
    if (input.bool !== undefined) return b.init(name, Uint8Array.from(input.bool, Number), input.dims, 'bool');
    const n = input.dims.reduce((p, d) => p * d, 1);
    const data = input.values
      ? (dtype === 'float64' ? Float64Array : Float32Array).from(input.values)
      : floats(n, dtype, r, input.range ?? [-1, 1]);
    if (input.constant) return b.init(name, data, input.dims);
    b.input(name, dtype, input.dims);
    feeds[name] = { dtype, dims: input.dims, data };
    wrt.push(name);
    return name;
  });
  const ys = b.opMulti(c.op, names, c.attrs ?? {}, { outputs: c.outputs ?? 1 });
  for (const y of ys) b.output(y);
  const model = makeModel(b.graph, c.opset ?? 17);
  const used = c.lossOn?.map((i) => ys[i]!) ?? ys;
  const opts: GradientOptions = { wrt, loss: used.map((y) => ({ mse: y })) };
  // The MSE targets are inputs of the forward model; draw them at random too.
  const all = randomFeeds(prepareForward(model, opts).model, dtype, (c.seed ?? 7) + 1, feeds);
  return checkGradients(model, opts, all, check);
}

/** Asserts every checked coordinate is within `tol` relative error; logs the worst when QL_GRADCHECK_LOG is set. */
export function expectGrads(label: string, entries: readonly GradCheckEntry[], tol: number): void {
  expect(entries.length).toBeGreaterThan(0);
  const worst = Math.max(...entries.map((e) => e.maxRelError));
  if (process.env.QL_GRADCHECK_LOG) console.log(`gradcheck ${label}: worst relative error ${worst.toExponential(2)}`);
  for (const e of entries) {
    expect(e.checked, `${label} ${e.wrt}`).toBeGreaterThan(0);
    expect(e.largest, `${label} ${e.wrt}: all-zero gradient`).toBeGreaterThan(0);
    expect(e.maxRelError, `${label} ${e.wrt}: ${JSON.stringify(e.worst)}`).toBeLessThan(tol);
  }
}

/**
 * A straight-through op (Round/Floor/Ceil): for loss = mean((op(x) - t)^2) the gradient must be 2 (op(x) - t) / n,
 * the true derivative of the loss through an identity at the rounded value. Central differences cannot check it.
 */
export async function expectStraightThrough(op: string, f: (x: number) => number): Promise<void> {
  const b = new GraphBuilder();
  const x = b.input('x', 'float64', [3, 4]);
  const y = b.op(op, [x]);
  b.output(y);
  const gg = buildGradientGraph(makeModel(b.graph), { wrt: [x], loss: [{ mse: y }] });
  const r = mulberry32(3);
  const xs = Float64Array.from({ length: 12 }, (_, i) => (i === 0 ? 2.5 : i === 1 ? -0.5 : 4 * r() - 2));
  const ts = Float64Array.from({ length: 12 }, () => r());
  const runner = await GradientRunner.create(gg, { threads: 1 });
  const step = await runner.run({
    x: { dtype: 'float64', dims: [3, 4], data: xs },
    [gg.targets[y]!]: { dtype: 'float64', dims: [3, 4], data: ts },
  });
  await runner.release();
  const want = Array.from(xs, (v, i) => (2 * (f(v) - ts[i]!)) / 12);
  Array.from(step.grads[x]!).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
}
