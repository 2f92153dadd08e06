// Sequential calibration in one ORT session (see sequential.ts): every pending activation quantizer sits behind a
// switch, Where(on, fake-quant(x), x), whose scale/zero-point (or δ) are graph inputs; one full run per depth level
// probes that level's quantizers with all shallower ones switched on. Few sessions, but every run computes the
// whole model. Imports the builder, fake-quant emitters and the runtime.

import { GraphBuilder } from '../../onnx/builder.js';
import type { Graph } from '../../onnx/ir.js';
import { names } from '../../onnx/naming.js';
import { modelError } from '../../errors.js';
import { emitLogOps, emitUniformOps } from '../../quant/fake-quant.js';
import type { QuantTarget } from '../../quant/plan.js';
import { uniformGrid, type QuantParams } from '../../quant/qparams.js';
import { Session, type Feeds } from '../../runtime/index.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { observeTarget, valueLevels, type SequentialRunner, type SequentialStats } from './sequential-common.js';

interface Switch {
  target: QuantTarget;
  on: string;
  /** δ (log) or scale (uniform) */
  scale: string;
  zeroPoint: string | null;
  output: string;
}

const isLog = (t: QuantTarget) => t.observer === 'log2' || t.observer === 'logsqrt2';

function floatInput(g: Graph, name: string): string {
  // No shape: per-channel parameters are fed as [C, 1, …] once C is known, and as [1] while switched off.
  g.inputs.push({ name, type: { dtype: 'float32' } });
  return name;
}

function addSwitch(b: GraphBuilder, t: QuantTarget, i: number): Switch {
  const base = `${t.key}__fq`;
  const on = b.input(b.namer.fresh(`quantlens_calib_on${i}`), 'bool', []);
  const scale = floatInput(b.graph, b.namer.fresh(`quantlens_calib_scale${i}`));
  let q: string;
  let zeroPoint: string | null = null;
  if (isLog(t)) q = emitLogOps(b, t.tensor, scale, t.observer as 'log2' | 'logsqrt2', t.bits, base);
  else {
    zeroPoint = floatInput(b.graph, b.namer.fresh(`quantlens_calib_zero_point${i}`));
    const { qmin, qmax } = uniformGrid(t.bits, t.symmetric);
    const lo = b.init(b.namer.fresh(`${base}__qmin`), Float32Array.of(qmin), []);
    const hi = b.init(b.namer.fresh(`${base}__qmax`), Float32Array.of(qmax), []);
    q = emitUniformOps(b, t.tensor, { scale, zeroPoint, qmin: lo, qmax: hi }, base);
  }
  const output = b.op('Where', [on, q, t.tensor], {}, { name: names.node(t.key, 'calib_switch') });
  return { target: t, on, scale, zeroPoint, output };
}

const scalarBool = (v: boolean): HostTensor => ({ dtype: 'bool', dims: [], data: Uint8Array.of(v ? 1 : 0) });
const floats = (v: readonly number[], dims: number[]): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(v),
});

/** Feeds that switch a quantizer on with its calibrated parameters (per-channel ones shaped for broadcasting). */
function onFeeds(s: Switch, p: QuantParams, rank: number): Feeds {
  if (p.kind !== 'uniform') return { [s.on]: scalarBool(true), [s.scale]: floats([p.scale], []) };
  const dims = p.axis === null ? [] : [p.scale.length, ...new Array<number>(rank - 1 - p.axis).fill(1)];
  return { [s.on]: scalarBool(true), [s.scale]: floats(p.scale, dims), [s.zeroPoint!]: floats(p.zeroPoint, dims) };
}

function offFeeds(s: Switch): Feeds {
  const f: Feeds = { [s.on]: scalarBool(false), [s.scale]: floats([1], [1]) };
  if (s.zeroPoint !== null) f[s.zeroPoint] = floats([0], [1]);
  return f;
}

export const calibrateSwitched: SequentialRunner = async (model, base, pending, batch, opts) => {
  const t0 = performance.now();
  const g = base.graph;
  const b = new GraphBuilder(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const switches = pending.map((t, i) => {
    const s = addSwitch(b, t, i);
    for (const use of t.uses) {
      const node = byName.get(use.node);
      if (node === undefined) throw modelError(`quantized use ${use.node} is not in the graph`);
      g.setNodeInput(node, use.input, s.output);
    }
    return s;
  });
  g.topoSort();
  const level = valueLevels(g, new Set(switches.map((s) => s.output)));
  const depth = (s: Switch) => level.get(s.target.tensor) ?? 0;
  const graphInputs = new Set(model.graph.inputs.map((i) => i.name));
  const existing = new Set(g.outputs.map((o) => o.name));
  for (const t of new Set(pending.map((u) => u.tensor)))
    if (!graphInputs.has(t) && !existing.has(t)) g.outputs.push({ name: t });
  const session = await Session.create(base, { ...opts, optimize: false });
  const levels = [...new Set(switches.map(depth))].sort((x, y) => x - y);
  const stats: SequentialStats = {
    strategy: 'switched',
    levels: 0,
    sessions: 1,
    calibrated: switches.length,
    buildSeconds: (performance.now() - t0) / 1000,
    runSeconds: 0,
    observeSeconds: 0,
  };
  const feeds: Feeds = { ...batch };
  for (const s of switches) Object.assign(feeds, offFeeds(s));
  try {
    for (const l of levels) {
      const group = switches.filter((s) => depth(s) === l);
      const fetch = [...new Set(group.map((s) => s.target.tensor))].filter((t) => !graphInputs.has(t));
      const r0 = performance.now();
      const got = fetch.length > 0 ? await session.run(feeds, fetch) : {};
      const r1 = performance.now();
      for (const s of group) {
        const v = got[s.target.tensor] ?? batch[s.target.tensor];
        observeTarget(model, s.target, v);
        Object.assign(feeds, onFeeds(s, s.target.params!, v!.dims.length));
      }
      stats.runSeconds += (r1 - r0) / 1000;
      stats.observeSeconds += (performance.now() - r1) / 1000;
      stats.levels++;
      opts.onProgress?.(stats.levels, levels.length);
    }
  } finally {
    await session.release();
  }
  return stats;
};
